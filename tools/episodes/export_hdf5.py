#!/usr/bin/python3
"""Export robotctl episodes (SQLite) to the stable-worldmodel HDF5 layout, so recorded runs can train a LeWM.

Usage: /usr/bin/python3 tools/episodes/export_hdf5.py EPISODE.sqlite [MORE.sqlite ...] --out FILE.h5

One row per recorded camera frame, all episodes concatenated:
  pixels    uint8   N x H x W x 3   RGB (JPEG/PNG decoded with Pillow; raw-bgr reordered to RGB)
  action    float32 N x 7           sum of the commands sent (after the governor) during the frame's step:
                                    dx dy dz droll dpitch dyaw gripper (metres, radians, closedness delta)
  proprio   float32 N x 7           latest arm state at or before the frame: x y z roll pitch yaw gripper
                                    (the first state for frames before any; NaN when the episode has no states)
  step      int64   N               the frame's step index in its episode
  time_s    float64 N               seconds since the episode's start (monotonic clock)
  ep_len    int64   E               rows per episode
  ep_offset int64   E               first row of each episode
Attributes: episode_ids (JSON list), source files, schema version.
Exit codes: 0 ok, 2 bad input (message on stderr), 3 a Python package is missing.
"""
import argparse
import io
import json
import os
import sqlite3
import sys

APPLICATION_ID = 0x52434550
SCHEMA_VERSION = 1

try:
    import numpy as np
    import h5py
except ImportError as e:  # the C# command relays this line as is
    print(f"export_hdf5: missing Python package for {sys.executable}: {e.name} "
          "(Debian: apt-get install python3-numpy python3-h5py python3-pil)", file=sys.stderr)
    sys.exit(3)


class BadEpisode(Exception):
    pass


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


def episode_rows(db):
    meta = dict(db.execute("SELECT key, value FROM metadata"))
    freq = float(meta["tick_frequency"])
    start = int(meta["start_ticks"])
    actions = {}
    for step, *cmd in db.execute("SELECT step, dx, dy, dz, droll, dpitch, dyaw, gripper FROM commands ORDER BY id"):
        acc = actions.setdefault(step, np.zeros(7, np.float64))
        acc += np.nan_to_num(np.array(cmd, np.float64))
    states = db.execute("SELECT t_ticks, x, y, z, roll, pitch, yaw, gripper FROM arm_states ORDER BY t_ticks").fetchall()
    return meta, freq, start, actions, states


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("episodes", nargs="+")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    dbs = [(p, open_episode(p)) for p in args.episodes]
    counts = [db.execute("SELECT count(*) FROM frames").fetchone()[0] for _, db in dbs]
    total = sum(counts)
    if total == 0:
        raise BadEpisode("no camera frames in " + ", ".join(p for p, _ in dbs) + ": nothing to export")
    first = dbs[[i for i, c in enumerate(counts) if c > 0][0]][1].execute("SELECT width, height FROM frames ORDER BY id LIMIT 1").fetchone()
    width, height = first

    tmp = args.out + ".partial"
    try:
        write(tmp, dbs, counts, total, width, height)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    os.replace(tmp, args.out)
    print(json.dumps({"out": args.out, "rows": total, "episodes": len(dbs), "height": height, "width": width}))


def write(tmp, dbs, counts, total, width, height):
    with h5py.File(tmp, "w") as h5:
        pixels = h5.create_dataset("pixels", (total, height, width, 3), np.uint8, chunks=(1, height, width, 3))
        action = np.zeros((total, 7), np.float32)
        proprio = np.full((total, 7), np.nan, np.float32)
        steps = np.zeros(total, np.int64)
        times = np.zeros(total, np.float64)
        ep_len, ep_offset, ids = [], [], []
        row = 0
        for (path, db), count in zip(dbs, counts):
            meta, freq, start, actions, states = episode_rows(db)
            ids.append(meta.get("episode_id", os.path.splitext(os.path.basename(path))[0]))
            ep_offset.append(row)
            ep_len.append(count)
            s = 0
            for fid, step, t, w, h, fmt, data in db.execute("SELECT id, step, t_ticks, width, height, format, data FROM frames ORDER BY id"):
                if (w, h) != (width, height):
                    raise BadEpisode(f"{path}: frame {fid} is {w}x{h}, the export is {width}x{height}: one size per file")
                pixels[row] = decode(fmt, data, w, h, path, fid)
                action[row] = actions.get(step, np.zeros(7))
                while s < len(states) and states[s][0] <= t:
                    s += 1
                if states:
                    proprio[row] = states[max(s - 1, 0)][1:]
                steps[row] = step
                times[row] = (t - start) / freq
                row += 1
            db.close()
        h5["action"] = action
        h5["proprio"] = proprio
        h5["step"] = steps
        h5["time_s"] = times
        h5["ep_len"] = np.array(ep_len, np.int64)
        h5["ep_offset"] = np.array(ep_offset, np.int64)
        h5.attrs["episode_ids"] = json.dumps(ids)
        h5.attrs["sources"] = json.dumps([os.path.abspath(p) for p, _ in dbs])
        h5.attrs["robotctl_schema_version"] = SCHEMA_VERSION


if __name__ == "__main__":
    try:
        main()
    except BadEpisode as e:
        print(f"export_hdf5: {e}", file=sys.stderr)
        sys.exit(2)
    except (sqlite3.DatabaseError, KeyError, ValueError) as e:
        print(f"export_hdf5: episode unreadable: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)
