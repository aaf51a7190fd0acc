#!/usr/bin/python3
"""Export robotctl episodes (SQLite) to the stable-worldmodel HDF5 layout, so recorded runs can train a LeWM.

Usage: /usr/bin/python3 tools/episodes/export_hdf5.py EPISODE.sqlite|DIR [MORE ...] --out FILE.h5 [--size WxH]

A directory stands for the *.sqlite files in it, sorted by name. One row per recorded camera frame, all episodes
concatenated in the order given:
  pixels    uint8   N x H x W x 3   RGB (JPEG/PNG decoded with Pillow; raw-bgr reordered to RGB); with --size, each
                                    frame downsampled by exact area averaging (the runtime Preprocessor's arithmetic:
                                    each output pixel is the area-weighted mean of the source pixels its footprint
                                    covers, float32 weights) and rounded to the nearest integer
  action    float32 N x 7           sum of the commands sent (after the governor) during the frame's step:
                                    dx dy dz droll dpitch dyaw gripper (metres, radians, closedness delta)
  proprio   float32 N x 7           latest arm state at or before the frame: x y z roll pitch yaw gripper
                                    (the first state for frames before any; NaN when the episode has no states)
  sim_state float32 N x 6           the sim's true state recorded at the frame's step (first row of that step):
                                    ee_x ee_y ee_z block_x block_y block_yaw; NaN where there is none (real robots,
                                    files written before the sim_states table existed)
  step      int64   N               the frame's step index in its episode
  time_s    float64 N               seconds since the episode's start (monotonic clock)
  ep_len    int64   E               rows per episode
  ep_offset int64   E               first row of each episode
Attributes: episode_ids and sources (JSON lists), robotctl_schema_version, source_size ([width, height] of the
recorded frames), resize ("area" or "none"), sim_state_columns (JSON list).
Progress goes to stderr every ~2 s ("export_hdf5: progress ROWS/TOTAL rows"); the report is one JSON line on stdout.
Exit codes: 0 ok, 2 bad input (message on stderr), 3 a Python package is missing. The output is written to
FILE.h5.partial and renamed at the end; on any failure (or SIGTERM) the partial file is removed.
"""
import argparse
import io
import json
import os
import signal
import sqlite3
import sys
import time

APPLICATION_ID = 0x52434550
SCHEMA_VERSION = 1
SIM_STATE_COLUMNS = ["ee_x", "ee_y", "ee_z", "block_x", "block_y", "block_yaw"]
PROGRESS_SECONDS = 2.0
WRITE_BLOCK = 256  # rows of pixels buffered per HDF5 write

# The resize's matrix products are small: BLAS threads would only spin (and compete with training jobs).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

try:
    import numpy as np
    import h5py
except ImportError as e:  # the C# command relays this line as is
    print(f"export_hdf5: missing Python package for {sys.executable}: {e.name} "
          "(Debian: apt-get install python3-numpy python3-h5py python3-pil)", file=sys.stderr)
    sys.exit(3)


class BadEpisode(Exception):
    pass


def expand(paths):
    """Files as given; a directory becomes its *.sqlite files sorted by name."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(f for f in os.listdir(p) if f.endswith(".sqlite") and os.path.isfile(os.path.join(p, f)))
            if not found:
                raise BadEpisode(f"no episode files (*.sqlite) in directory {p}")
            files.extend(os.path.join(p, f) for f in found)
        else:
            files.append(p)
    return files


def parse_size(text):
    parts = text.lower().split("x")
    try:
        w, h = (int(v) for v in parts)
    except ValueError:
        raise BadEpisode(f"--size {text}: expected WIDTHxHEIGHT, e.g. 64x64")
    if w <= 0 or h <= 0:
        raise BadEpisode(f"--size {text}: expected positive width and height")
    return w, h


def open_episode(path):
    if not os.path.isfile(path):
        raise BadEpisode(f"not a robotctl episode: {path}: file not found")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise BadEpisode(f"not a robotctl episode: {path}: {e}")
    if app_id != APPLICATION_ID:
        raise BadEpisode(f"not a robotctl episode: {path}: application_id 0x{app_id:08x}, expected 0x{APPLICATION_ID:08x}")
    if version != SCHEMA_VERSION:
        raise BadEpisode(f"not a robotctl episode: {path}: schema version {version}, this script reads {SCHEMA_VERSION}")
    return db


def decode(fmt, data, width, height, path, frame_id):
    if fmt == "raw-bgr":
        if len(data) != width * height * 3:
            raise BadEpisode(f"{path}: frame {frame_id}: raw-bgr has {len(data)} bytes, expected {width * height * 3}")
        return np.frombuffer(data, np.uint8).reshape(height, width, 3)[:, :, ::-1]
    if fmt in ("jpeg", "png"):
        try:
            from PIL import Image
        except ImportError:
            print("export_hdf5: missing Python package: PIL (Debian: apt-get install python3-pil)", file=sys.stderr)
            sys.exit(3)
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    raise BadEpisode(f"{path}: frame {frame_id}: unknown format '{fmt}' (expected jpeg, png or raw-bgr)")


def area_weights(source, target):
    """target x source float32 matrix: row i averages the source pixels under output pixel i's footprint
    [i*s, (i+1)*s), s = source/target, each weighted by its covered fraction / s (rows sum to 1).
    The same weights as area_weights() in src/RobotCtl.Vision/native/rcv.cpp."""
    s = source / target
    w = np.zeros((target, source), np.float64)
    for i in range(target):
        lo, hi = i * s, min((i + 1) * s, float(source))
        j = int(np.floor(lo))
        while j < hi and j < source:
            overlap = min(j + 1.0, hi) - max(float(j), lo)
            if overlap > 0:
                w[i, j] = overlap / s
            j += 1
    return w.astype(np.float32)


class AreaResize:
    """Downsampling by exact area averaging as two matrix products per image (rows, then columns), in float32."""

    def __init__(self, src_w, src_h, dst_w, dst_h):
        self.wy = area_weights(src_h, dst_h)          # dst_h x src_h
        self.wxt = area_weights(src_w, dst_w).T.copy()  # src_w x dst_w
        self.dst = (dst_h, dst_w)

    def __call__(self, rgb):
        h, w, _ = rgb.shape
        rows = self.wy @ rgb.astype(np.float32).reshape(h, w * 3)            # dst_h x (src_w * 3)
        rows = rows.reshape(self.dst[0], w, 3).transpose(0, 2, 1)           # dst_h x 3 x src_w
        out = (rows @ self.wxt).transpose(0, 2, 1)                           # dst_h x dst_w x 3
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def has_table(db, name):
    return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def episode_rows(db):
    meta = dict(db.execute("SELECT key, value FROM metadata"))
    freq = float(meta["tick_frequency"])
    start = int(meta["start_ticks"])
    actions = {}
    for step, *cmd in db.execute("SELECT step, dx, dy, dz, droll, dpitch, dyaw, gripper FROM commands ORDER BY id"):
        acc = actions.setdefault(step, np.zeros(7, np.float64))
        acc += np.nan_to_num(np.array(cmd, np.float64))
    states = db.execute("SELECT t_ticks, x, y, z, roll, pitch, yaw, gripper FROM arm_states ORDER BY t_ticks").fetchall()
    sim = {}
    if has_table(db, "sim_states"):
        for step, *values in db.execute("SELECT step, " + ", ".join(SIM_STATE_COLUMNS) + " FROM sim_states ORDER BY id"):
            if step not in sim:  # the first state recorded at the step: the state its frame shows
                sim[step] = [np.nan if v is None else v for v in values]
    return meta, freq, start, actions, states, sim


class Progress:
    def __init__(self, total):
        self.total, self.start, self.last = total, time.monotonic(), time.monotonic()

    def update(self, rows):
        now = time.monotonic()
        if now - self.last >= PROGRESS_SECONDS:
            self.last = now
            rate = rows / max(now - self.start, 1e-9)
            print(f"export_hdf5: progress {rows}/{self.total} rows ({100.0 * rows / self.total:.0f}%, {rate:.0f} rows/s)",
                  file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("episodes", nargs="+", help="episode files, or directories of them")
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", help="downsample every frame to WIDTHxHEIGHT by area averaging")
    args = ap.parse_args()

    # Checked first: a bad output path used to fail only at the final rename, with a traceback and the .partial file left.
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if os.path.isdir(args.out):
        raise BadEpisode(f"--out {args.out}: is a directory, expected a file path")
    if not os.path.isdir(out_dir):
        raise BadEpisode(f"--out {args.out}: directory {out_dir} does not exist")
    size = parse_size(args.size) if args.size else None
    dbs = [(p, open_episode(p)) for p in expand(args.episodes)]
    counts = [db.execute("SELECT count(*) FROM frames").fetchone()[0] for _, db in dbs]
    total = sum(counts)
    if total == 0:
        raise BadEpisode("no camera frames in " + ", ".join(p for p, _ in dbs) + ": nothing to export")
    first = dbs[[i for i, c in enumerate(counts) if c > 0][0]][1].execute("SELECT width, height FROM frames ORDER BY id LIMIT 1").fetchone()
    width, height = first
    if size is not None and (size[0] > width or size[1] > height):
        raise BadEpisode(f"--size {size[0]}x{size[1]}: larger than the recorded frames ({width}x{height}); only downsampling is supported")

    tmp = args.out + ".partial"
    # SIGTERM (the C# exporter's timeout, a killed job) unwinds like an error, so the partial file is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        out_w, out_h = write(tmp, dbs, counts, total, width, height, size)
        os.replace(tmp, args.out)  # inside the try: a failed rename must not leave the partial file either
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    print(json.dumps({"out": args.out, "rows": total, "episodes": len(dbs), "height": out_h, "width": out_w,
                      "source_height": height, "source_width": width, "resize": "area" if size else "none"}))


def write(tmp, dbs, counts, total, width, height, size):
    resize = AreaResize(width, height, *size) if size is not None else None
    out_w, out_h = size if size is not None else (width, height)
    progress = Progress(total)
    with h5py.File(tmp, "w") as h5:
        pixels = h5.create_dataset("pixels", (total, out_h, out_w, 3), np.uint8, chunks=(1, out_h, out_w, 3))
        block = np.zeros((WRITE_BLOCK, out_h, out_w, 3), np.uint8)
        block_start, block_rows = 0, 0
        action = np.zeros((total, 7), np.float32)
        proprio = np.full((total, 7), np.nan, np.float32)
        sim_state = np.full((total, len(SIM_STATE_COLUMNS)), np.nan, np.float32)
        steps = np.zeros(total, np.int64)
        times = np.zeros(total, np.float64)
        ep_len, ep_offset, ids = [], [], []
        row = 0
        for (path, db), count in zip(dbs, counts):
            meta, freq, start, actions, states, sim = episode_rows(db)
            ids.append(meta.get("episode_id", os.path.splitext(os.path.basename(path))[0]))
            ep_offset.append(row)
            ep_len.append(count)
            s = 0
            for fid, step, t, w, h, fmt, data in db.execute("SELECT id, step, t_ticks, width, height, format, data FROM frames ORDER BY id"):
                if (w, h) != (width, height):
                    raise BadEpisode(f"{path}: frame {fid} is {w}x{h}, the export is {width}x{height}: one size per file")
                image = decode(fmt, data, w, h, path, fid)
                block[block_rows] = resize(image) if resize is not None else image
                block_rows += 1
                if block_rows == WRITE_BLOCK:
                    pixels[block_start:block_start + block_rows] = block
                    block_start, block_rows = block_start + block_rows, 0
                action[row] = actions.get(step, np.zeros(7))
                while s < len(states) and states[s][0] <= t:
                    s += 1
                if states:
                    proprio[row] = states[max(s - 1, 0)][1:]
                if step in sim:
                    sim_state[row] = sim[step]
                steps[row] = step
                times[row] = (t - start) / freq
                row += 1
                progress.update(row)
            db.close()
        if block_rows:
            pixels[block_start:block_start + block_rows] = block[:block_rows]
        h5["action"] = action
        h5["proprio"] = proprio
        h5["sim_state"] = sim_state
        h5["step"] = steps
        h5["time_s"] = times
        h5["ep_len"] = np.array(ep_len, np.int64)
        h5["ep_offset"] = np.array(ep_offset, np.int64)
        h5.attrs["episode_ids"] = json.dumps(ids)
        h5.attrs["sources"] = json.dumps([os.path.abspath(p) for p, _ in dbs])
        h5.attrs["robotctl_schema_version"] = SCHEMA_VERSION
        h5.attrs["source_size"] = np.array([width, height], np.int64)
        h5.attrs["resize"] = "area" if resize is not None else "none"
        h5.attrs["sim_state_columns"] = json.dumps(SIM_STATE_COLUMNS)
    return out_w, out_h


if __name__ == "__main__":
    try:
        main()
    except BadEpisode as e:
        print(f"export_hdf5: {e}", file=sys.stderr)
        sys.exit(2)
    except (sqlite3.DatabaseError, KeyError, ValueError) as e:
        print(f"export_hdf5: episode unreadable: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)
    except OSError as e:  # the output cannot be written (permissions, disk full): one line, not a traceback
        print(f"export_hdf5: cannot write the output: {e.strerror or e}: {e.filename or ''}", file=sys.stderr)
        sys.exit(1)
