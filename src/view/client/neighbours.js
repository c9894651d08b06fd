// How a group of points sits in one frame: its spread (RMS distance to its centroid, relative to
// the whole cloud's) and its neighbourhood hit (the share of each point's 10 nearest neighbours in
// the frame that have its label), with a uniform grid so a frame costs about O(points).
const K = 10;

function gridOf(positions, n) {
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = positions[2 * i];
    const y = positions[2 * i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const side = Math.max(1, Math.ceil(Math.sqrt(n / 2)));
  const cellW = (maxX - minX) / side || 1;
  const cellH = (maxY - minY) / side || 1;
  const cellOf = new Int32Array(n);
  const start = new Int32Array(side * side + 1);
  for (let i = 0; i < n; i++) {
    const cx = Math.min(side - 1, Math.floor((positions[2 * i] - minX) / cellW));
    const cy = Math.min(side - 1, Math.floor((positions[2 * i + 1] - minY) / cellH));
    cellOf[i] = cy * side + cx;
    start[cellOf[i] + 1]++;
  }
  for (let c = 0; c < side * side; c++) start[c + 1] += start[c];
  const fill = start.slice(0, side * side);
  const items = new Int32Array(n);
  for (let i = 0; i < n; i++) items[fill[cellOf[i]]++] = i;
  return { side, cellW, cellH, minX, minY, start, items };
}

const bestD = new Float64Array(K);
const bestJ = new Int32Array(K);

/** The share of point i's K nearest neighbours (grid search, ring by ring) labelled like it. */
function hitOf(i, positions, labels, grid) {
  const { side, cellW, cellH, minX, minY, start, items } = grid;
  const x = positions[2 * i];
  const y = positions[2 * i + 1];
  const cx = Math.min(side - 1, Math.floor((x - minX) / cellW));
  const cy = Math.min(side - 1, Math.floor((y - minY) / cellH));
  const ringWidth = Math.min(cellW, cellH);
  let found = 0;
  for (let r = 0; r < side; r++) {
    for (let gy = cy - r; gy <= cy + r; gy++) {
      if (gy < 0 || gy >= side) continue;
      const edgeRow = gy === cy - r || gy === cy + r;
      for (let gx = cx - r; gx <= cx + r; gx += edgeRow ? 1 : 2 * r || 1) {
        if (gx < 0 || gx >= side) continue;
        const cell = gy * side + gx;
        for (let s = start[cell]; s < start[cell + 1]; s++) {
          const j = items[s];
          if (j === i) continue;
          const dx = positions[2 * j] - x;
          const dy = positions[2 * j + 1] - y;
          const d = dx * dx + dy * dy;
          if (found === K && d >= bestD[K - 1]) continue;
          // Insertion into the K best so far, kept sorted.
          let at = found < K ? found++ : K - 1;
          while (at > 0 && bestD[at - 1] > d) {
            bestD[at] = bestD[at - 1];
            bestJ[at] = bestJ[at - 1];
            at--;
          }
          bestD[at] = d;
          bestJ[at] = j;
        }
      }
    }
    // Every point within r cells' distance has been seen: the K nearest are final once the K-th
    // is closer than that.
    if (found === K && bestD[K - 1] <= (r * ringWidth) ** 2) break;
  }
  if (found === 0) return 0;
  let same = 0;
  for (let s = 0; s < found; s++) if (labels[bestJ[s]] === labels[i]) same++;
  return same / found;
}

/** { spread, hit } of the points `members` in one frame of `n` points. */
export function groupMeasures(positions, n, labels, members) {
  if (members.length === 0) return { spread: null, hit: null };
  // RMS distance to the centroid, of `list` (or of every point when null).
  const rms = (list) => {
    const count = list ? list.length : n;
    const at = (s) => (list ? list[s] : s);
    let sx = 0;
    let sy = 0;
    for (let s = 0; s < count; s++) {
      sx += positions[2 * at(s)];
      sy += positions[2 * at(s) + 1];
    }
    sx /= count;
    sy /= count;
    let ss = 0;
    for (let s = 0; s < count; s++) ss += (positions[2 * at(s)] - sx) ** 2 + (positions[2 * at(s) + 1] - sy) ** 2;
    return Math.sqrt(ss / count);
  };
  const spread = rms(members) / (rms(null) || 1);
  const grid = gridOf(positions, n);
  let hits = 0;
  for (const i of members) hits += hitOf(i, positions, labels, grid);
  return { spread, hit: hits / members.length };
}
