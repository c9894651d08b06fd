"""The seed's ResNet in PyTorch (docs/model.md), shared by the GPU kit's PyTorch scripts."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


class ResNet(nn.Module):
    def __init__(self, blocks=(6, 6, 12), widths=(32, 64, 128), stem=32, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, stem, 7, 2, 3, bias=False)
        self.bn = nn.BatchNorm2d(stem)
        layers, cin = [], stem
        for stage, (count, width) in enumerate(zip(blocks, widths)):
            for b in range(count):
                layers.append(Block(cin, width, 2 if b == 0 and stage > 0 else 1))
                cin = width
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn(self.stem(x))))
        emb = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.head(emb), emb
