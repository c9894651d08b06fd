#!/usr/bin/env python3
"""Serve a log directory with TensorBoard's own server and read back, through its HTTP API,
what a browser would see: runs, scalar/image/text/histogram tags with their steps, and every
projector entry (tensor, metadata, sprite). Used on a machine that has TensorBoard installed
(this project cannot install it): `python3 check_tensorboard.py <logdir> [--load-fast]`.
Prints one JSON document; exits non-zero when a request fails."""
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(base, path, **params):
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def main():
    logdir = sys.argv[1]
    load_fast = "--load-fast" in sys.argv
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--port", str(port),
         "--host", "127.0.0.1", "--samples_per_plugin=images=100000",  # images=0 serves none
         "--load_fast=" + ("true" if load_fast else "false"), "--reload_interval=1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    report = {"logdir": logdir, "load_fast": load_fast, "errors": []}
    try:
        for _ in range(120):
            try:
                get(base, "/data/runs")
                break
            except Exception:
                time.sleep(0.5)
        time.sleep(8)  # let the multiplexer finish its first load
        report["runs"] = json.loads(get(base, "/data/runs"))
        for plugin in ("scalars", "images", "text", "histograms"):
            try:
                tags = json.loads(get(base, f"/data/plugin/{plugin}/tags"))
            except Exception as error:  # plugin inactive
                report["errors"].append(f"{plugin}/tags: {error}")
                continue
            out = {}
            for run, run_tags in tags.items():
                for tag in run_tags:
                    try:
                        if plugin == "scalars":
                            data = json.loads(get(base, "/data/plugin/scalars/scalars", run=run, tag=tag))
                            out[f"{run}/{tag}"] = {"steps": [d[1] for d in data], "last": data[-1][2] if data else None}
                        elif plugin == "images":
                            data = json.loads(get(base, "/data/plugin/images/images", run=run, tag=tag))
                            steps = [d["step"] for d in data]
                            first = data[0]
                            png = get(base, "/data/plugin/images/individualImage", blob_key=first["query"].split("blob_key=")[-1]) if "blob_key=" in first.get("query", "") else b""
                            out[f"{run}/{tag}"] = {"steps": steps, "count": len(steps), "first_png_bytes": len(png), "png_ok": png[:8] == b"\x89PNG\r\n\x1a\n" if png else None}
                        elif plugin == "text":
                            data = json.loads(get(base, "/data/plugin/text/text", run=run, tag=tag))
                            out[f"{run}/{tag}"] = {"steps": [d["step"] for d in data], "first": data[0]["text"][:200] if data else None}
                        else:
                            data = json.loads(get(base, "/data/plugin/histograms/histograms", run=run, tag=tag))
                            out[f"{run}/{tag}"] = {"steps": [d[1] for d in data]}
                    except Exception as error:
                        report["errors"].append(f"{plugin} {run}/{tag}: {error}")
            report[plugin] = out
        try:
            runs = json.loads(get(base, "/data/plugin/projector/runs"))
            projector = {}
            for run in runs:
                info = json.loads(get(base, "/data/plugin/projector/info", run=run))
                entries = []
                for emb in info.get("embeddings", []):
                    name = emb["tensorName"]
                    tensor = get(base, "/data/plugin/projector/tensor", run=run, name=name)
                    entry = {"name": name, "shape": emb.get("tensorShape"), "tensor_bytes": len(tensor)}
                    if emb.get("metadataPath"):
                        meta = get(base, "/data/plugin/projector/metadata", run=run, name=name).decode()
                        entry["metadata_rows"] = len(meta.rstrip("\n").split("\n"))
                    if emb.get("sprite"):
                        sprite = get(base, "/data/plugin/projector/sprite_image", run=run, name=name)
                        entry["sprite_png"] = sprite[:8] == b"\x89PNG\r\n\x1a\n"
                    entries.append(entry)
                projector[run] = entries
            report["projector"] = projector
        except Exception as error:
            report["errors"].append(f"projector: {error}")
    finally:
        server.terminate()
        try:
            _, err = server.communicate(timeout=10)
            report["server_stderr_tail"] = err[-2000:]
        except Exception:
            server.kill()
    print(json.dumps(report, indent=1))
    sys.exit(1 if report["errors"] else 0)


if __name__ == "__main__":
    main()
