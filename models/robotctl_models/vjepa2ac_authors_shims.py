"""Shims that let the V-JEPA 2-AC authors' own code (facebookresearch/vjepa2) run on this machine.

Written by us. Nothing here re-implements their model: every class and function that computes a number in the
reference (VisionTransformer, VisionTransformerPredictorAC, Block, ACBlock, RoPEAttention, ACRoPEAttention,
rotate_queries_or_keys, build_action_block_causal_attention_mask, PatchEmbed3D, the world model wrapper's
encode/step_predictor, mpc_utils.compute_new_pose and its l1 energy, app/vjepa_droid/transforms.py's VideoTransform)
is loaded from their source files, unmodified. The shims only satisfy imports their files make of packages this machine
lacks (timm, einops, scipy, tqdm, torchvision, cv2 via their video functional module) and back-fill one torch 2.x
function torch 1.13 lacks. `install(root)` registers them and returns the list (each with its reason), which the driver
writes into refs.json.
"""
from __future__ import annotations

import importlib.util
import math
import re
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F

# The PyTorch-documented SDPA and synthetic modules are the same as for LeWM's code.
from .lewm_authors_shims import scaled_dot_product_attention, synthetic_module

SHIMS: list[dict] = []


def _note(name: str, why: str) -> None:
    SHIMS.append({"shim": name, "why": why})


# --------------------------------------------------------------------------------------- timm drop_path
def drop_path(x, drop_prob: float = 0.0, training: bool = False, scale_by_keep: bool = True):
    """timm.models.layers.drop_path (stochastic depth): the identity unless training with drop_prob > 0."""
    if drop_prob == 0.0 or not training:
        return x
    keep = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    mask = x.new_empty(shape).bernoulli_(keep)
    if keep > 0.0 and scale_by_keep:
        mask.div_(keep)
    return x * mask


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """timm's trunc_normal_ (initialisation only; their vision_transformer uses src.utils.tensors' own copy)."""
    with torch.no_grad():
        return torch.nn.init.trunc_normal_(tensor, mean, std, a, b)


# --------------------------------------------------------------------------------------- scipy Rotation
class Rotation:
    """scipy.spatial.transform.Rotation, the subset mpc_utils uses (from_euler, as_matrix, from_matrix, as_euler),
    ported from scipy's own algorithms (scipy >= 1.11, scipy/spatial/transform/_rotation_cy.pyx @ 04ea6c14 and
    _rotation_xp.py): from_euler composes elementary quaternions (extrinsic: e_k * ... * e_1), as_matrix is the
    quaternion's matrix, from_matrix checks the Gramian against the identity (atol 1e-12), orthogonalises by SVD when
    it is off, then converts with Markley's method (argmax of the diagonal and the trace) and normalises, as_euler is
    Bernardes & Viollet (2022) with scipy's gimbal-lock handling: when the middle angle is within 1e-7 of its
    singularity, the THIRD angle is set to 0 (for extrinsic "xyz": yaw) and the first takes the whole rotation about
    the aligned axes, with a warning; every angle is wrapped into [-pi, pi] by one 2 pi step."""

    def __init__(self, quat: np.ndarray, single: bool):
        self._quat = np.asarray(quat, dtype=float).reshape(-1, 4)
        self._single = single

    # -- constructors
    @classmethod
    def from_euler(cls, seq, angles, degrees=False):
        if len(seq) < 1 or len(seq) > 3:
            raise ValueError(f"Expected axis specification to be a non-empty string of upto 3 characters, got {seq}")
        intrinsic = re.match(r"^[XYZ]{1,3}$", seq) is not None
        extrinsic = re.match(r"^[xyz]{1,3}$", seq) is not None
        if not (intrinsic or extrinsic):
            raise ValueError(f"Expected axes from `seq` to be from ['x', 'y', 'z'] or ['X', 'Y', 'Z'], got {seq}")
        angles = np.asarray(angles, dtype=float)
        if degrees:
            angles = np.deg2rad(angles)
        single = angles.ndim < 2
        angles = np.atleast_2d(angles)
        if angles.shape[1] != len(seq):
            raise ValueError("Expected last dimension of `angles` to match number of sequence axes specified")
        seq = seq.lower()
        quat = cls._elementary(seq[0], angles[:, 0])
        for i in range(1, len(seq)):
            e = cls._elementary(seq[i], angles[:, i])
            quat = cls._compose(quat, e) if intrinsic else cls._compose(e, quat)
        return cls(quat, single)

    @classmethod
    def from_matrix(cls, matrix):
        matrix = np.array(matrix, dtype=float)
        single = matrix.shape == (3, 3)
        if single:
            matrix = matrix[np.newaxis]
        if np.any(np.linalg.det(matrix) <= 0):
            raise ValueError("Non-positive determinant (left-handed or null coordinate frame) in rotation matrix")
        gramians = matrix @ np.transpose(matrix, (0, 2, 1))
        orthogonal = np.all(np.isclose(gramians, np.eye(3), atol=1e-12), axis=(1, 2))
        fix = np.where(~orthogonal)[0]
        if len(fix):
            u, _, vt = np.linalg.svd(matrix[fix])
            matrix[fix] = u @ vt
        quat = np.empty((len(matrix), 4))
        for n, m in enumerate(matrix):
            decision = [m[0, 0], m[1, 1], m[2, 2], m[0, 0] + m[1, 1] + m[2, 2]]
            choice = int(np.argmax(decision))        # first maximum, as their _argmax4
            q = np.empty(4)
            if choice != 3:
                i = choice
                j = (i + 1) % 3
                k = (j + 1) % 3
                q[i] = 1 - decision[3] + 2 * m[i, i]
                q[j] = m[j, i] + m[i, j]
                q[k] = m[k, i] + m[i, k]
                q[3] = m[k, j] - m[j, k]
            else:
                q[0] = m[2, 1] - m[1, 2]
                q[1] = m[0, 2] - m[2, 0]
                q[2] = m[1, 0] - m[0, 1]
                q[3] = 1 + decision[3]
            quat[n] = q / math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
        return cls(quat, single)

    # -- conversions
    def as_matrix(self):
        out = np.empty((len(self._quat), 3, 3))
        for n, (x, y, z, w) in enumerate(self._quat):
            x2, y2, z2, w2 = x * x, y * y, z * z, w * w
            xy, zw, xz, yw, yz, xw = x * y, z * w, x * z, y * w, y * z, x * w
            out[n] = [[x2 - y2 - z2 + w2, 2 * (xy - zw), 2 * (xz + yw)],
                      [2 * (xy + zw), -x2 + y2 - z2 + w2, 2 * (yz - xw)],
                      [2 * (xz - yw), 2 * (yz + xw), -x2 - y2 + z2 + w2]]
        return out[0] if self._single else out

    def as_euler(self, seq, degrees=False):
        if len(seq) != 3:
            raise ValueError(f"Expected 3 axes, got {seq}.")
        intrinsic = re.match(r"^[XYZ]{1,3}$", seq) is not None
        extrinsic = re.match(r"^[xyz]{1,3}$", seq) is not None
        if not (intrinsic or extrinsic):
            raise ValueError("Expected axes from `seq` to be from ['x', 'y', 'z'] or ['X', 'Y', 'Z']")
        seq = seq.lower()
        if not extrinsic:
            seq = seq[::-1]
        i, j, k = ("xyz".index(c) for c in seq)
        symmetric = i == k
        if symmetric:
            k = 3 - i - j
        sign = (i - j) * (j - k) * (k - i) // 2
        angles = np.empty((len(self._quat), 3))
        gimbal = 0
        for n, q in enumerate(self._quat):
            if symmetric:
                a, b, c, d = q[3], q[i], q[j], q[k] * sign
            else:
                a, b, c, d = q[3] - q[j], q[i] + q[k] * sign, q[j] + q[3], q[k] * sign - q[i]
            gimbal += self._get_angles(angles[n], extrinsic, symmetric, sign, math.pi / 2, a, b, c, d)
        if gimbal:
            warnings.warn("Gimbal lock detected. Setting third angle to zero since it is not possible to uniquely "
                          "determine all angles.", stacklevel=2)
        if degrees:
            angles = np.rad2deg(angles)
        return angles[0] if self._single else angles

    # -- scipy's helpers
    @staticmethod
    def _get_angles(angles, extrinsic, symmetric, sign, lamb, a, b, c, d) -> int:
        first, third = (0, 2) if extrinsic else (2, 0)
        angles[1] = 2 * math.atan2(math.hypot(c, d), math.hypot(a, b))
        if abs(angles[1]) <= 1e-7:
            case = 1
        elif abs(angles[1] - math.pi) <= 1e-7:
            case = 2
        else:
            case = 0
        half_sum = math.atan2(b, a)
        half_diff = math.atan2(d, c)
        if case == 0:
            angles[first] = half_sum - half_diff
            angles[third] = half_sum + half_diff
        else:
            angles[2] = 0
            if case == 1:
                angles[0] = 2 * half_sum
            else:
                angles[0] = 2 * half_diff * (-1 if extrinsic else 1)
        if not symmetric:
            angles[third] *= sign
            angles[1] -= lamb
        for idx in range(3):
            if angles[idx] < -math.pi:
                angles[idx] += 2 * math.pi
            elif angles[idx] > math.pi:
                angles[idx] -= 2 * math.pi
        return 1 if case else 0

    @staticmethod
    def _elementary(axis, angles):
        quat = np.zeros((len(angles), 4))
        quat[:, 3] = np.cos(angles / 2)
        quat[:, "xyz".index(axis)] = np.sin(angles / 2)
        return quat

    @staticmethod
    def _compose(p, q):
        """p * q, broadcasting a single rotation, as their _compose_quat."""
        n = max(len(p), len(q))
        p = np.broadcast_to(p, (n, 4))
        q = np.broadcast_to(q, (n, 4))
        out = np.empty((n, 4))
        for r in range(n):
            cross = np.array([p[r, 1] * q[r, 2] - p[r, 2] * q[r, 1],
                              p[r, 2] * q[r, 0] - p[r, 0] * q[r, 2],
                              p[r, 0] * q[r, 1] - p[r, 1] * q[r, 0]])
            out[r, 0] = p[r, 3] * q[r, 0] + q[r, 3] * p[r, 0] + cross[0]
            out[r, 1] = p[r, 3] * q[r, 1] + q[r, 3] * p[r, 1] + cross[1]
            out[r, 2] = p[r, 3] * q[r, 2] + q[r, 3] * p[r, 2] + cross[2]
            out[r, 3] = p[r, 3] * q[r, 3] - p[r, 0] * q[r, 0] - p[r, 1] * q[r, 1] - p[r, 2] * q[r, 2]
        return out


# --------------------------------------------------------------------------------------- torchvision (stub)
class _Compose:
    """torchvision.transforms.Compose: VideoTransform.__init__ builds its (unused, auto_augment=False) RandAugment
    with it; calling it applies the transforms in order."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


def _unavailable(name):
    def call(*_a, **_k):
        raise RuntimeError(f"{name}: not available in the shim (torchvision is not installed); the reference path "
                           f"(auto_augment=False, no flip) never calls it")
    return call


def install(root: str) -> list[dict]:
    """Registers the shims, puts `root` (a folder holding their src/, app/ and notebooks/) on sys.path, and returns
    SHIMS."""
    # Their repository is no installable package: its modules import each other as `src.*`, `app.*`, `notebooks.*`
    # from its root, so the root given on the command line goes on the module path (ours are imported as a package).
    if root not in sys.path:
        sys.path.insert(0, root)
    if not hasattr(F, "scaled_dot_product_attention"):
        F.scaled_dot_product_attention = scaled_dot_product_attention
        _note("torch.nn.functional.scaled_dot_product_attention",
              f"torch {torch.__version__} lacks it (2.0+); their Attention/RoPEAttention/ACRoPEAttention call it "
              f"whenever a mask is given or use_sdpa; the PyTorch-documented reference implementation (bool mask: "
              f"False -> -inf, scale 1/sqrt(E), dropout_p applied regardless of eval mode)")
    if not hasattr(torch.backends.cuda, "sdp_kernel"):
        import contextlib
        torch.backends.cuda.sdp_kernel = contextlib.nullcontext
        _note("torch.backends.cuda.sdp_kernel", "torch lacks it; a null context (it only picks CUDA kernels)")
    if "timm" not in sys.modules:
        synthetic_module("timm", path=[])
        synthetic_module("timm.models", path=[])
        synthetic_module("timm.models.layers", drop_path=drop_path, trunc_normal_=trunc_normal_)
        _note("timm.models.layers.drop_path", "timm is not installed; modules.py imports drop_path for DropPath, the "
              "identity in eval mode (timm's stochastic-depth function, written out)")
    if "einops" not in sys.modules:
        synthetic_module("einops", rearrange=_unavailable("einops.rearrange"))
        _note("einops.rearrange", "einops is not installed; patch_embed.py imports it and never calls it")
    if "scipy" not in sys.modules:
        synthetic_module("scipy", path=[])
        synthetic_module("scipy.spatial", path=[])
        synthetic_module("scipy.spatial.transform", Rotation=Rotation)
        _note("scipy.spatial.transform.Rotation", "scipy is not installed; mpc_utils.compute_new_pose uses "
              "Rotation.from_euler('xyz').as_matrix() and Rotation.from_matrix().as_euler('xyz'): ported from scipy "
              ">= 1.11's algorithms (elementary quaternions, Markley's matrix -> quaternion, Bernardes-Viollet "
              "quaternion -> Euler with its gimbal-lock rule: third angle 0 within 1e-7 of the singularity)")
    if "tqdm" not in sys.modules:
        synthetic_module("tqdm", tqdm=lambda iterable=None, *a, **k: iterable)
        _note("tqdm.tqdm", "tqdm is not installed; mpc_utils.cem iterates through tqdm(disable=True): the iterable")
    if "torchvision" not in sys.modules:
        tv = synthetic_module("torchvision", path=[])
        tr = synthetic_module("torchvision.transforms", path=[], Compose=_Compose,
                     ToPILImage=_unavailable("ToPILImage"), ToTensor=_unavailable("ToTensor"))
        synthetic_module("torchvision.transforms.functional", resized_crop=_unavailable("resized_crop"))
        tv.transforms = tr
        _note("torchvision", "not installed; app/vjepa_droid/transforms.py and src/datasets/utils/video/transforms.py "
              "import it; VideoTransform uses only transforms.Compose (for its unused RandAugment), the clip path "
              "(random_resized_crop, _tensor_normalize_inplace) is torch")
    name = "src.datasets.utils.video.functional"
    if name not in sys.modules:
        synthetic_module(name)
        _note(name, "imports cv2 (not installed) and torchvision; its functions serve transforms VideoTransform does "
              "not use (random_resized_crop and the normalisation do not call it)")
    return SHIMS


def load(module: str):
    """Imports one of their modules by dotted name (src.models.vision_transformer, notebooks.utils.mpc_utils, ...)."""
    return importlib.import_module(module)
