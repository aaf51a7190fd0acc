"""PyTorch (1.13) modules for a facebookresearch/vjepa2 V-JEPA 2-AC checkpoint, with the authors' state-dict key names.

Written by us from the facts of their code (vjepa2 @ c2963a4: src/models/vision_transformer.py, src/models/ac_predictor.py,
src/models/utils/modules.py, src/models/utils/patch_embed.py, src/hub/backbones.py, notebooks/utils/world_model_wrapper.py);
nothing of theirs is imported or copied. Built for export to ONNX: every table (RoPE angles, frame ids for the
block-causal mask) is precomputed for the predictor's most frames and sliced by the traced sizes.

What a textbook ViT / RoPE implementation would get wrong, reproduced here on purpose:
- The encoder is a video ViT (PatchEmbed3D: Conv3d over 2-frame tubelets). Their world model feeds one image as a clip
  of that frame twice (`unsqueeze(2).repeat(1, 1, 2, 1, 1)`); the Conv3d over two equal frames is the Conv2d whose
  kernel is the sum of the two temporal kernel slices, which is what `PatchEmbed3D.forward` here computes.
- Their RoPE (`rotate_queries_or_keys`) pairs neighbouring channels (2i, 2i+1) for the rotation, but lays the
  frequencies out as [f_0 .. f_{d/2-1}, f_0 .. f_{d/2-1}] (`emb_sin.repeat(1, 1, 1, 2)`, the "subtle bug" their
  comment keeps for compatibility with the released weights): channel j turns by pos * f_{j mod d/2}.
  Each head is split into depth, height and width sections of d = 2 * ((head_dim // 3) // 2) channels each (in that
  order), the rest of the head is not rotated. omega = 1 / 10000 ** (arange(d/2) / (d/2)), in float32 as theirs.
- The encoder's positions are integer frame/row/column indices of the token grid (their RoPEAttention; one tubelet:
  depth 0). The AC predictor's (ACRoPEAttention) are the frame index and the row/column scaled by grid_size / H and
  grid_size / W (1 for a square grid); its action and state tokens turn only their depth section, by the frame index.
- Predictor tokens per frame are [action, state, H*W patches]; the mask is block-causal over frames
  (build_action_block_causal_attention_mask, add_tokens = 2): a token sees every token of its own and earlier frames.
- Their attention runs F.scaled_dot_product_attention whenever a mask is given or use_sdpa: scale 1/sqrt(head_dim),
  qk_scale ignored. Only the encoder with use_sdpa false takes the manual path, where `qk_scale or head_dim ** -0.5`.
- The world model wrapper layer-norms representations without affine parameters with F.layer_norm's default eps
  1e-5 (normalize_reps), while the model's own LayerNorms use eps 1e-6 (their named constructors) or 1e-5 (the bare
  VisionTransformer class's nn.LayerNorm default).
- Actions and states enter the predictor raw (metre / radian deltas and absolute poses, gripper in [0, 1]): no
  normalisation anywhere in their pipeline.

Configurations are their constructors' arguments (see `resolve_encoder`, `resolve_predictor`): the named encoder
constructors (vit_tiny ... vit_giant_xformers, ...) fix their widths and raise TypeError if given them again; unknown
keyword arguments are swallowed by VisionTransformer's / VisionTransformerPredictorAC's **kwargs and ignored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, asdict

import torch
import torch.nn.functional as F
from torch import nn

REPRESENTATION_EPS = 1e-5          # F.layer_norm(h, (h.size(-1),)) in world_model_wrapper.py: torch's default eps
ACTION_DIM = 7                     # [dx, dy, dz, droll, dpitch, dyaw, gripper] and the 7-D end-effector state


class ArchError(ValueError):
    """A configuration their constructors would refuse, or one robotctl's contract cannot carry."""


# ----------------------------------------------------------------------------------------------- configurations

_MISSING = object()

# VisionTransformer.__init__'s parameters and defaults (vision_transformer.py). norm_layer: nn.LayerNorm (eps 1e-5).
VIT_DEFAULTS = dict(
    img_size=(224, 224), patch_size=16, num_frames=1, tubelet_size=2, in_chans=3, embed_dim=768, depth=12,
    num_heads=12, mlp_ratio=4.0, qkv_bias=True, qk_scale=None, drop_rate=0.0, attn_drop_rate=0.0,
    drop_path_rate=0.0, norm_layer=_MISSING, init_std=0.02, out_layers=None, uniform_power=False, use_silu=False,
    wide_silu=True, use_sdpa=True, use_activation_checkpointing=False, use_rope=False, handle_nonsquare_inputs=True)

# What each named constructor passes to VisionTransformer itself (and so refuses again in **kwargs). norm_eps stands
# for their `norm_layer=partial(nn.LayerNorm, eps=1e-6)`. vit_gigantic* pass `mpl_ratio` (sic): VisionTransformer's
# **kwargs swallows it and mlp_ratio stays 4.0.
_G = 48 / 11
ENCODER_CONSTRUCTORS = {
    "vit_synthetic": dict(embed_dim=1, depth=1, num_heads=1, mlp_ratio=4, qkv_bias=True),
    "vit_tiny": dict(embed_dim=192, depth=12, num_heads=3, mlp_ratio=4, qkv_bias=True),
    "vit_small": dict(embed_dim=384, depth=12, num_heads=6, mlp_ratio=4, qkv_bias=True),
    "vit_base": dict(embed_dim=768, depth=12, num_heads=12, mlp_ratio=4, qkv_bias=True),
    "vit_large": dict(embed_dim=1024, depth=24, num_heads=16, mlp_ratio=4, qkv_bias=True),
    "vit_large_rope": dict(embed_dim=1024, depth=24, num_heads=16, mlp_ratio=4, qkv_bias=True, use_rope=True),
    "vit_huge": dict(embed_dim=1280, depth=32, num_heads=16, mlp_ratio=4, qkv_bias=True),
    "vit_huge_rope": dict(embed_dim=1280, depth=32, num_heads=16, mlp_ratio=4, qkv_bias=True, use_rope=True),
    "vit_giant": dict(embed_dim=1408, depth=40, num_heads=16, mlp_ratio=_G, qkv_bias=True),
    "vit_giant_rope": dict(embed_dim=1408, depth=40, num_heads=16, mlp_ratio=_G, qkv_bias=True, use_rope=True),
    "vit_giant_xformers": dict(embed_dim=1408, depth=40, num_heads=22, mlp_ratio=_G, qkv_bias=True),
    "vit_giant_xformers_rope": dict(embed_dim=1408, depth=40, num_heads=22, mlp_ratio=_G, qkv_bias=True,
                                    use_rope=True),
    "vit_gigantic": dict(embed_dim=1664, depth=48, num_heads=16, mpl_ratio=64 / 13, qkv_bias=True),
    "vit_gigantic_xformers": dict(embed_dim=1664, depth=48, num_heads=26, mpl_ratio=64 / 13, qkv_bias=True),
}
CONSTRUCTOR_NORM_EPS = 1e-6
CLASS_NORM_EPS = 1e-5              # nn.LayerNorm's default: VisionTransformer / VisionTransformerPredictorAC bare
ENCODER_NAMES = list(ENCODER_CONSTRUCTORS) + ["VisionTransformer"]

# VisionTransformerPredictorAC.__init__'s parameters and defaults (ac_predictor.py).
PREDICTOR_DEFAULTS = dict(
    img_size=(224, 224), patch_size=16, num_frames=1, tubelet_size=2, embed_dim=768, predictor_embed_dim=1024,
    depth=24, num_heads=16, mlp_ratio=4.0, qkv_bias=True, qk_scale=None, drop_rate=0.0, attn_drop_rate=0.0,
    drop_path_rate=0.0, norm_layer=_MISSING, init_std=0.02, uniform_power=True, use_silu=False, wide_silu=True,
    is_frame_causal=True, use_activation_checkpointing=False, use_rope=True, action_embed_dim=7,
    use_extrinsics=False)
# vit_ac_predictor passes these itself (norm_layer=partial(nn.LayerNorm, eps=1e-6)).
PREDICTOR_CONSTRUCTORS = {"vit_ac_predictor": dict(mlp_ratio=4, qkv_bias=True)}
PREDICTOR_NAMES = list(PREDICTOR_CONSTRUCTORS) + ["VisionTransformerPredictorAC"]

# Arguments that change nothing at inference (training, initialisation), accepted and recorded as such.
_NO_EFFECT = {"drop_path_rate", "attn_drop_rate", "init_std", "use_activation_checkpointing", "uniform_power"}

# src/hub/backbones.py _make_vjepa2_ac_model (the published "vit_ac_giant", img_size 256): vit_encoder_kwargs then
# vit_predictor_kwargs. use_SiLU / wide_SiLU are spelled with capitals there: VisionTransformer's **kwargs swallows
# them, so use_silu keeps its default (False) either way.
PUBLISHED = {
    "encoder": {"name": "vit_giant_xformers", "kwargs": {
        "patch_size": 16, "img_size": [256, 256], "num_frames": 64, "tubelet_size": 2, "use_sdpa": True,
        "use_SiLU": False, "wide_SiLU": True, "uniform_power": False, "use_rope": True}},
    "predictor": {"name": "vit_ac_predictor", "kwargs": {
        "img_size": [256, 256], "patch_size": 16, "num_frames": 64, "tubelet_size": 2, "embed_dim": 1408}},
}


class _PatchGrid:
    """The patch grid of an image of img_h x img_w pixels cut into patch x patch squares (both specs have one)."""

    @property
    def grid_h(self) -> int:
        return self.img_h // self.patch

    @property
    def grid_w(self) -> int:
        return self.img_w // self.patch

    @property
    def tokens(self) -> int:
        return self.grid_h * self.grid_w


@dataclass
class EncoderSpec(_PatchGrid):
    name: str
    img_h: int
    img_w: int
    patch: int
    num_frames: int
    tubelet: int
    embed_dim: int
    depth: int
    num_heads: int
    mlp_hidden: int
    qkv_bias: bool
    qk_scale: float | None
    use_sdpa: bool
    use_rope: bool
    use_silu: bool
    wide_silu: bool
    norm_eps: float
    drop_rate: float
    kwargs: dict = field(default_factory=dict)        # as given
    ignored: list = field(default_factory=list)       # swallowed by **kwargs
    no_effect: list = field(default_factory=list)     # accepted, no effect at inference

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads


@dataclass
class PredictorSpec(_PatchGrid):
    name: str
    img_h: int
    img_w: int
    patch: int
    num_frames: int
    tubelet: int
    embed_dim: int
    width: int
    depth: int
    num_heads: int
    mlp_hidden: int
    qkv_bias: bool
    use_rope: bool
    use_silu: bool
    wide_silu: bool
    is_frame_causal: bool
    norm_eps: float
    drop_rate: float
    kwargs: dict = field(default_factory=dict)
    ignored: list = field(default_factory=list)
    no_effect: list = field(default_factory=list)

    @property
    def max_frames(self) -> int:
        """The most frames (steps) one call takes: their mask is built for num_frames // tubelet_size."""
        return self.num_frames // self.tubelet

    @property
    def head_dim(self) -> int:
        return self.width // self.num_heads


def rope_section(head_dim: int) -> int:
    """Channels per rotated section (depth, height, width) of a head: int(2 * ((head_dim // 3) // 2))."""
    return int(2 * ((head_dim // 3) // 2))


def _json(value) -> str:
    import json
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def _kind(value) -> str:
    return "null" if value is None else type(value).__name__


def _int(where: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ArchError(f"{where}: expected an integer >= {minimum}, found {_json(value)}")
    return value


def _number(where: str, value, minimum: float = 0.0, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < minimum or (strict and value == minimum):
        raise ArchError(f"{where}: expected a number {'>' if strict else '>='} {minimum:g}, found {_json(value)}")
    return float(value)


def _bool(where: str, value) -> bool:
    if not isinstance(value, bool):
        raise ArchError(f"{where}: expected true or false, found {_json(value)}")
    return value


def _img_size(where: str, value) -> tuple[int, int]:
    # `if type(img_size) is int: img_size = (img_size, img_size)`; a 2-element list indexes like their tuple.
    if isinstance(value, int) and not isinstance(value, bool):
        return _int(where, value), _int(where, value)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return _int(f"{where}[0]", value[0]), _int(f"{where}[1]", value[1])
    raise ArchError(f"{where}: expected an integer or [height, width], found {_json(value)}")


def _merge(where: str, name: str, defaults: dict, fixed: dict, kwargs) -> tuple[dict, list]:
    """Their call: name(**kwargs) -> Class(**fixed, **kwargs). Returns (effective arguments, names swallowed by
    **kwargs). A fixed argument given again is their TypeError."""
    if not isinstance(kwargs, dict):
        raise ArchError(f"{where}.kwargs: expected a JSON object of {name}'s keyword arguments, found {_kind(kwargs)}")
    for key in kwargs:
        if key in fixed:
            raise ArchError(f"{where}.kwargs.{key}: {name}() sets {key} itself (theirs raises TypeError: got multiple "
                            f"values for keyword argument '{key}')")
    args = dict(defaults)
    ignored = []
    for key, value in list(fixed.items()) + list(kwargs.items()):
        if key in defaults:
            args[key] = value
        else:
            ignored.append(key)
    if args.get("norm_layer", _MISSING) is not _MISSING and "norm_layer" in kwargs:
        raise ArchError(f"{where}.kwargs.norm_layer: a callable, not expressible in JSON (the named constructors fix "
                        f"LayerNorm(eps=1e-6); the bare classes default to nn.LayerNorm, eps 1e-5)")
    return args, sorted(ignored)


def resolve_encoder(entry, where: str = "encoder") -> EncoderSpec:
    """{"name": constructor, "kwargs": {...}} -> the encoder's effective configuration, as their constructor builds it."""
    if not isinstance(entry, dict):
        raise ArchError(f"{where}: expected an object {{\"name\": ..., \"kwargs\": {{...}}}}, found {_kind(entry)}")
    name = entry.get("name")
    if name not in ENCODER_NAMES:
        raise ArchError(f"{where}.name: expected one of vision_transformer.py's constructors ({', '.join(ENCODER_NAMES)}), "
                        f"found {_json(name)}")
    fixed = ENCODER_CONSTRUCTORS.get(name, {})
    args, ignored = _merge(where, name, VIT_DEFAULTS, fixed, entry.get("kwargs", {}))
    if "mpl_ratio" in fixed:
        ignored = [k for k in ignored if k != "mpl_ratio"]     # their typo, swallowed by **kwargs
    eps = CONSTRUCTOR_NORM_EPS if name in ENCODER_CONSTRUCTORS else CLASS_NORM_EPS
    k = f"{where}.kwargs"
    img_h, img_w = _img_size(f"{k}.img_size", args["img_size"])
    spec = EncoderSpec(
        name=name, img_h=img_h, img_w=img_w, patch=_int(f"{k}.patch_size", args["patch_size"]),
        num_frames=_int(f"{k}.num_frames", args["num_frames"]), tubelet=_int(f"{k}.tubelet_size", args["tubelet_size"]),
        embed_dim=_int(f"{k}.embed_dim", args["embed_dim"]), depth=_int(f"{k}.depth", args["depth"]),
        num_heads=_int(f"{k}.num_heads", args["num_heads"]),
        mlp_hidden=int(_int(f"{k}.embed_dim", args["embed_dim"]) * _number(f"{k}.mlp_ratio", args["mlp_ratio"], strict=True)),
        qkv_bias=_bool(f"{k}.qkv_bias", args["qkv_bias"]),
        qk_scale=None if args["qk_scale"] is None else _number(f"{k}.qk_scale", args["qk_scale"]),
        use_sdpa=_bool(f"{k}.use_sdpa", args["use_sdpa"]), use_rope=_bool(f"{k}.use_rope", args["use_rope"]),
        use_silu=_bool(f"{k}.use_silu", args["use_silu"]), wide_silu=_bool(f"{k}.wide_silu", args["wide_silu"]),
        norm_eps=eps, drop_rate=_number(f"{k}.drop_rate", args["drop_rate"]),
        kwargs=dict(entry.get("kwargs", {})), ignored=ignored,
        no_effect=sorted(key for key in entry.get("kwargs", {}) if key in _NO_EFFECT))
    _bool(f"{k}.handle_nonsquare_inputs", args["handle_nonsquare_inputs"])
    for key in ("drop_path_rate", "attn_drop_rate", "init_std"):
        _number(f"{k}.{key}", args[key])
    if _int(f"{k}.in_chans", args["in_chans"]) != 3:
        raise ArchError(f"{k}.in_chans: robotctl's encoder input is RGB, expected 3, found {args['in_chans']}")
    if args["out_layers"] is not None:
        raise ArchError(f"{k}.out_layers: expected null (with out_layers the encoder returns a list of layers, which "
                        f"their world model wrapper cannot encode with), found {_json(args['out_layers'])}")
    if spec.num_frames <= 1:
        raise ArchError(f"{k}.num_frames: expected > 1 (a video ViT: their world model feeds each image as a 2-frame clip "
                        f"[B, 3, 2, H, W], which the image ViT of num_frames 1 cannot take), found {spec.num_frames}")
    if spec.tubelet != 2:
        raise ArchError(f"{k}.tubelet_size: expected 2 (their world model duplicates each frame into one 2-frame "
                        f"tubelet, so one image is one frame of tokens), found {spec.tubelet}")
    if spec.embed_dim % spec.num_heads:
        raise ArchError(f"{k}: embed_dim {spec.embed_dim} is not a multiple of num_heads {spec.num_heads}")
    if spec.grid_h < 1 or spec.grid_w < 1:
        raise ArchError(f"{k}: img_size {[img_h, img_w]} is smaller than patch_size {spec.patch}")
    if not spec.use_rope:
        # VisionTransformer.__init__ fills its pos_embed with get_3d_sincos_pos_embed (asserts even sub-widths; a
        # grid_size x grid_size table from img_size[0]) and copies it in: where that fails, so does their constructor.
        dims = [int(math.ceil(spec.embed_dim / 6) * 2)] * 3 if args["uniform_power"] else \
            [spec.embed_dim // 2, spec.embed_dim // 4, spec.embed_dim // 4]
        if any(x % 2 for x in dims) or sum(dims) < spec.embed_dim or spec.img_h != spec.img_w:
            raise ArchError(f"{k}: use_rope false with embed_dim {spec.embed_dim}, uniform_power "
                            f"{args['uniform_power']}, img_size {[img_h, img_w]}: their constructor's sincos pos_embed "
                            f"fails for it (sub-widths {dims} must be even and cover embed_dim; the table is square)")
    if spec.use_rope and rope_section(spec.head_dim) == 2:
        raise ArchError(f"{k}: head_dim {spec.head_dim} (embed_dim / num_heads) gives RoPE sections of 2 channels, where "
                        f"their rotate_queries_or_keys fails (squeeze(-1) of a one-frequency table); use head_dim < 6 "
                        f"or >= 12")
    return spec


def resolve_predictor(entry, where: str = "predictor") -> PredictorSpec:
    if not isinstance(entry, dict):
        raise ArchError(f"{where}: expected an object {{\"name\": ..., \"kwargs\": {{...}}}}, found {_kind(entry)}")
    name = entry.get("name")
    if name not in PREDICTOR_NAMES:
        raise ArchError(f"{where}.name: expected one of ac_predictor.py's constructors ({', '.join(PREDICTOR_NAMES)}), "
                        f"found {_json(name)}")
    fixed = PREDICTOR_CONSTRUCTORS.get(name, {})
    args, ignored = _merge(where, name, PREDICTOR_DEFAULTS, fixed, entry.get("kwargs", {}))
    eps = CONSTRUCTOR_NORM_EPS if name in PREDICTOR_CONSTRUCTORS else CLASS_NORM_EPS
    k = f"{where}.kwargs"
    img_h, img_w = _img_size(f"{k}.img_size", args["img_size"])
    width = _int(f"{k}.predictor_embed_dim", args["predictor_embed_dim"])
    spec = PredictorSpec(
        name=name, img_h=img_h, img_w=img_w, patch=_int(f"{k}.patch_size", args["patch_size"]),
        num_frames=_int(f"{k}.num_frames", args["num_frames"]), tubelet=_int(f"{k}.tubelet_size", args["tubelet_size"]),
        embed_dim=_int(f"{k}.embed_dim", args["embed_dim"]), width=width, depth=_int(f"{k}.depth", args["depth"]),
        num_heads=_int(f"{k}.num_heads", args["num_heads"]),
        mlp_hidden=int(width * _number(f"{k}.mlp_ratio", args["mlp_ratio"], strict=True)),
        qkv_bias=_bool(f"{k}.qkv_bias", args["qkv_bias"]), use_rope=_bool(f"{k}.use_rope", args["use_rope"]),
        use_silu=_bool(f"{k}.use_silu", args["use_silu"]), wide_silu=_bool(f"{k}.wide_silu", args["wide_silu"]),
        is_frame_causal=_bool(f"{k}.is_frame_causal", args["is_frame_causal"]), norm_eps=eps,
        drop_rate=_number(f"{k}.drop_rate", args["drop_rate"]),
        kwargs=dict(entry.get("kwargs", {})), ignored=ignored,
        no_effect=sorted(key for key in entry.get("kwargs", {}) if key in _NO_EFFECT | {"qk_scale"}))
    if args["qk_scale"] is not None:
        _number(f"{k}.qk_scale", args["qk_scale"])      # accepted; their SDPA path never reads it
    for key in ("drop_path_rate", "attn_drop_rate", "init_std"):
        _number(f"{k}.{key}", args[key])
    if _bool(f"{k}.use_extrinsics", args["use_extrinsics"]):
        raise ArchError(f"{k}.use_extrinsics: expected false (robotctl's predictor graph takes latents, actions and "
                        f"states; an extrinsics token has no input in the contract), found true")
    if _int(f"{k}.action_embed_dim", args["action_embed_dim"]) != ACTION_DIM:
        raise ArchError(f"{k}.action_embed_dim: expected {ACTION_DIM} (robotctl's 7-D end-effector actions and states), "
                        f"found {args['action_embed_dim']}")
    if not spec.is_frame_causal:
        raise ArchError(f"{k}.is_frame_causal: expected true (with false, their forward slices self.attn_mask, which is "
                        f"then None: TypeError)")
    if spec.width % spec.num_heads:
        raise ArchError(f"{k}: predictor_embed_dim {spec.width} is not a multiple of num_heads {spec.num_heads}")
    if spec.max_frames < 1:
        raise ArchError(f"{k}: num_frames {spec.num_frames} // tubelet_size {spec.tubelet} is 0: their block-causal mask "
                        f"is built for that many frames, so the predictor could take none")
    if spec.grid_h < 1 or spec.grid_w < 1:
        raise ArchError(f"{k}: img_size {[img_h, img_w]} is smaller than patch_size {spec.patch}")
    if spec.use_rope and rope_section(spec.head_dim) == 2:
        raise ArchError(f"{k}: head_dim {spec.head_dim} (predictor_embed_dim / num_heads) gives RoPE sections of 2 "
                        f"channels, where their rotate_queries_or_keys fails; use head_dim < 6 or >= 12")
    return spec


def resolve(arch: dict) -> tuple[EncoderSpec, PredictorSpec]:
    """Both halves, and what joins them: the predictor reads the encoder's tokens of one frame."""
    if not isinstance(arch, dict):
        raise ArchError(f"expected a JSON object {{\"encoder\": ..., \"predictor\": ...}}, found {_kind(arch)}")
    for key in ("encoder", "predictor"):
        if key not in arch:
            raise ArchError(f"no \"{key}\" (expected {{\"encoder\": {{\"name\", \"kwargs\"}}, \"predictor\": {{\"name\", "
                            f"\"kwargs\"}}}})")
    enc = resolve_encoder(arch["encoder"])
    pred = resolve_predictor(arch["predictor"])
    if pred.embed_dim != enc.embed_dim:
        raise ArchError(f"predictor.kwargs.embed_dim: expected the encoder's width {enc.embed_dim} ({enc.name}), found "
                        f"{pred.embed_dim}")
    if (pred.grid_h, pred.grid_w) != (enc.grid_h, enc.grid_w):
        raise ArchError(f"predictor.kwargs img_size/patch_size: a {pred.grid_h} x {pred.grid_w} token grid, the encoder "
                        f"makes {enc.grid_h} x {enc.grid_w} per frame")
    if enc.img_h != enc.img_w:
        raise ArchError(f"encoder.kwargs.img_size: {[enc.img_h, enc.img_w]}; their world model takes square images only "
                        f"(its transform crops crop_size x crop_size, and tokens_per_frame = (crop_size // patch_size) ** 2)")
    if (pred.img_h, pred.img_w) != (enc.img_h, enc.img_w):
        raise ArchError(f"predictor.kwargs.img_size: {[pred.img_h, pred.img_w]}, the encoder's is {[enc.img_h, enc.img_w]}")
    return enc, pred


def spec_dict(spec) -> dict:
    d = asdict(spec)
    d.pop("kwargs")
    return d


# ----------------------------------------------------------------------------------------------- RoPE

def rope_omega(d: int) -> torch.Tensor:
    """rotate_queries_or_keys's frequencies for a section of d channels, computed as theirs (float32)."""
    omega = torch.arange(d // 2, dtype=torch.float32)
    omega /= d / 2.0
    return 1.0 / 10000 ** omega


def rope_tables(pos: torch.Tensor, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(cos, sin) [L, d] for positions pos [L]: their einsum outer product, sin/cos, then the frequency layout
    [f_0..f_{d/2-1}, f_0..f_{d/2-1}] (their `.repeat(1, 1, 1, 2)`)."""
    if d == 0:
        return torch.zeros(len(pos), 0), torch.zeros(len(pos), 0)
    freq = torch.einsum("..., f -> ... f", pos, rope_omega(d))
    return freq.cos().repeat(1, 2), freq.sin().repeat(1, 2)


def head_tables(sections: list) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token (cos, sin) [L, sum of d]: the given sections [(positions or None, d)] in order (None positions: a
    section that does not turn, cos 1 and sin 0). The rest of the head is left alone by `Attention`."""
    length = next(len(p) for p, _ in sections if p is not None)
    cos, sin = [], []
    for pos, d in sections:
        if pos is None:
            cos.append(torch.ones(length, d))
            sin.append(torch.zeros(length, d))
        else:
            c, s = rope_tables(pos, d)
            cos.append(c)
            sin.append(s)
    return torch.cat(cos, 1), torch.cat(sin, 1)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x * cos + y * sin with y the pair swap (y[2i] = -x[2i+1], y[2i+1] = x[2i]), as rotate_queries_or_keys."""
    y1, y2 = x[..., 0::2], x[..., 1::2]           # their unflatten(-1, (-1, 2)).unbind(-1), ONNX-exportable
    y = torch.stack((-y2, y1), dim=-1).flatten(-2)
    return x * cos + y * sin


# ----------------------------------------------------------------------------------------------- modules

def representation_norm(x: torch.Tensor, dim: int) -> torch.Tensor:
    """The wrapper's F.layer_norm(h, (h.size(-1),)): no affine, eps 1e-5. Written with an explicit unit scale and zero
    shift (exactly the same numbers) because torch 1.13 exports a scale-less LayerNorm with an empty input ONNX
    rejects."""
    return F.layer_norm(x, (dim,), torch.ones(dim), torch.zeros(dim), eps=REPRESENTATION_EPS)


class Mlp(nn.Module):
    """modules.MLP (fc1, GELU, fc2; dropout is inactive in eval)."""

    def __init__(self, dim: int, hidden: int, device=None):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, device=device)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim, device=device)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class SwiGLU(nn.Module):
    """modules.SwiGLUFFN (use_silu): hidden int(2 * hidden / 3) rounded up to 8 when wide_silu; fc3(silu(fc1) * fc2)."""

    def __init__(self, dim: int, hidden: int, wide: bool, device=None):
        super().__init__()
        if wide:
            hidden = int(2 * hidden / 3)
            hidden = (hidden + 7) // 8 * 8
        self.fc1 = nn.Linear(dim, hidden, device=device)
        self.fc2 = nn.Linear(dim, hidden, device=device)
        self.fc3 = nn.Linear(hidden, dim, device=device)

    def forward(self, x):
        return self.fc3(F.silu(self.fc1(x)) * self.fc2(x))


class Attention(nn.Module):
    """qkv -> (RoPE via the per-token tables) -> softmax(q k^T * scale + mask) v -> proj; keys qkv, proj."""

    def __init__(self, dim: int, heads: int, qkv_bias: bool, scale: float, device=None):
        super().__init__()
        self.heads = heads
        self.scale = scale
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias, device=device)
        self.proj = nn.Linear(dim, dim, device=device)

    def forward(self, x, cos=None, sin=None, mask=None):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                       # [B, heads, N, head_dim]
        if cos is not None and cos.shape[-1] > 0:
            r = cos.shape[-1]                                  # 3 sections; channels r.. are not rotated
            q = torch.cat([rotate(q[..., :r], cos, sin), q[..., r:]], dim=-1)
            k = torch.cat([rotate(k[..., :r], cos, sin), k[..., r:]], dim=-1)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        if mask is not None:
            attn = attn + mask
        x = attn.softmax(dim=-1) @ v
        return self.proj(x.transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    """modules.Block / ACBlock (pre-norm): x + attn(norm1(x)); x + mlp(norm2(x)). Keys norm1, attn, norm2, mlp."""

    def __init__(self, dim, heads, hidden, qkv_bias, scale, silu, wide_silu, eps, device=None):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps, device=device)
        self.attn = Attention(dim, heads, qkv_bias, scale, device=device)
        self.norm2 = nn.LayerNorm(dim, eps=eps, device=device)
        self.mlp = SwiGLU(dim, hidden, wide_silu, device=device) if silu else Mlp(dim, hidden, device=device)

    def forward(self, x, cos=None, sin=None, mask=None):
        x = x + self.attn(self.norm1(x), cos, sin, mask)
        return x + self.mlp(self.norm2(x))


class PatchEmbed3D(nn.Module):
    """patch_embed.proj: their Conv3d over (tubelet, patch, patch). One image duplicated into a 2-frame tubelet is the
    Conv2d with the two temporal kernel slices summed (exactly: both slices see the same pixels)."""

    def __init__(self, spec: EncoderSpec, device=None):
        super().__init__()
        self.patch = spec.patch
        self.proj = nn.Conv3d(3, spec.embed_dim, (spec.tubelet, spec.patch, spec.patch),
                              stride=(spec.tubelet, spec.patch, spec.patch), device=device)

    def forward(self, pixels):                      # [B, 3, H, W] -> [B, N, D]
        weight = self.proj.weight.sum(dim=2)
        x = F.conv2d(pixels, weight, self.proj.bias, stride=self.patch)
        return x.flatten(2).transpose(1, 2)


class Encoder(nn.Module):
    """VisionTransformer (keys patch_embed.proj, [pos_embed], blocks.i.*, norm) for one image, then the wrapper's
    parameter-free layer norm: pixels [B, 3, H, W] (normalised) -> latent [B, N, D]."""

    def __init__(self, spec: EncoderSpec, device=None):
        super().__init__()
        self.spec = spec
        self.patch_embed = PatchEmbed3D(spec, device=device)
        n = spec.tokens
        if spec.use_rope:
            self.pos_embed = None
        else:
            # their pos_embed: a (frozen) Parameter over all num_frames // tubelet tubelets; one tubelet uses the first N
            self.pos_embed = nn.Parameter(torch.zeros(1, (spec.num_frames // spec.tubelet) * n, spec.embed_dim,
                                                      device=device), requires_grad=False)
        head = spec.head_dim
        scale = spec.qk_scale if (not spec.use_sdpa and spec.qk_scale) else head ** -0.5
        self.blocks = nn.ModuleList(
            Block(spec.embed_dim, spec.num_heads, spec.mlp_hidden, spec.qkv_bias, scale, spec.use_silu, spec.wide_silu,
                  spec.norm_eps, device=device) for _ in range(spec.depth))
        self.norm = nn.LayerNorm(spec.embed_dim, eps=spec.norm_eps, device=device)
        if spec.use_rope:
            # RoPEAttention with T = 1 tubelet, H_patches x W_patches given: integer positions (depth 0 for all).
            ids = torch.arange(n)
            d = rope_section(head)
            cos, sin = head_tables([(ids // n, d), ((ids % n) // spec.grid_w, d), ((ids % n) % spec.grid_w, d)])
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        else:
            self.rope_cos = self.rope_sin = None

    def forward(self, pixels):
        x = self.patch_embed(pixels)
        if self.pos_embed is not None:
            x = x + self.pos_embed[:, : self.spec.tokens]
        for blk in self.blocks:
            x = blk(x, self.rope_cos, self.rope_sin)
        x = self.norm(x)
        return representation_norm(x, self.spec.embed_dim)


class Predictor(nn.Module):
    """VisionTransformerPredictorAC (keys predictor_embed, action_encoder, state_encoder, extrinsics_encoder,
    predictor_blocks.i.*, predictor_norm, predictor_proj), then the wrapper's parameter-free layer norm:
    latents [B, T, N, D], actions [B, T, 7], states [B, T, 7] (raw) -> next_latents [B, T, N, D]."""

    def __init__(self, spec: PredictorSpec, device=None):
        super().__init__()
        self.spec = spec
        w = spec.width
        self.predictor_embed = nn.Linear(spec.embed_dim, w, device=device)
        self.action_encoder = nn.Linear(ACTION_DIM, w, device=device)
        self.state_encoder = nn.Linear(ACTION_DIM, w, device=device)
        self.extrinsics_encoder = nn.Linear(ACTION_DIM - 1, w, device=device)   # built by theirs, unused here
        head = spec.head_dim
        # ACBlock is given no use_sdpa (True) and has a mask or use_sdpa: always SDPA, scale 1/sqrt(head_dim).
        self.predictor_blocks = nn.ModuleList(
            Block(w, spec.num_heads, spec.mlp_hidden, spec.qkv_bias, head ** -0.5, spec.use_silu, spec.wide_silu,
                  spec.norm_eps, device=device) for _ in range(spec.depth))
        self.predictor_norm = nn.LayerNorm(w, eps=spec.norm_eps, device=device)
        self.predictor_proj = nn.Linear(w, spec.embed_dim, device=device)

        n, per = spec.tokens, spec.tokens + 2
        frames = spec.max_frames
        t = torch.arange(frames).repeat_interleave(per)                 # frame of each token, [frames * per]
        self.register_buffer("frame_of_token", t, persistent=False)
        if spec.use_rope:
            d = rope_section(head)
            # frame tokens: ACRoPEAttention.separate_positions over arange(T*H*W), as floats; h, w * grid_size / H, W
            ids = torch.arange(frames * n)
            fr = ids // n
            h = (ids - n * fr) // spec.grid_w
            wpos = (ids - n * fr) - spec.grid_w * h
            d_f, h_f, w_f = 1.0 * fr, 1.0 * h, 1.0 * wpos
            h_f *= spec.grid_h / spec.grid_h       # their h_mask *= self.grid_size / H (grid_size = grid height)
            w_f *= spec.grid_h / spec.grid_w       # w_mask *= self.grid_size / W
            fcos, fsin = head_tables([(d_f, d), (h_f, d), (w_f, d)])
            # action / state tokens: only the depth section turns, by torch.arange(T) (integer positions)
            acos, asin = head_tables([(torch.arange(frames), d), (None, d), (None, d)])
            cos = torch.cat([acos.unsqueeze(1), acos.unsqueeze(1), fcos.view(frames, n, 3 * d)], 1).reshape(-1, 3 * d)
            sin = torch.cat([asin.unsqueeze(1), asin.unsqueeze(1), fsin.view(frames, n, 3 * d)], 1).reshape(-1, 3 * d)
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        else:
            self.rope_cos = self.rope_sin = None

    def forward(self, latents, actions, states):
        b, t, n, _ = latents.shape
        x = self.predictor_embed(latents)
        a = self.action_encoder(actions).unsqueeze(2)
        s = self.state_encoder(states).unsqueeze(2)
        x = torch.cat([a, s, x], dim=2).flatten(1, 2)                   # [B, T * (2 + N), W]
        length = x.shape[1]
        cos = sin = mask = None
        if self.rope_cos is not None:
            cos, sin = self.rope_cos[:length], self.rope_sin[:length]
        if self.spec.is_frame_causal:
            f = self.frame_of_token[:length]
            visible = f.unsqueeze(0) <= f.unsqueeze(1)                 # key frame <= query frame
            mask = torch.zeros(visible.shape).masked_fill(~visible, float("-inf"))
        for blk in self.predictor_blocks:
            x = blk(x, cos, sin, mask)
        x = x.view(b, t, n + 2, x.shape[-1])[:, :, 2:, :]
        x = self.predictor_proj(self.predictor_norm(x))
        return representation_norm(x, self.spec.embed_dim)


def build(enc: EncoderSpec, pred: PredictorSpec, device=None) -> tuple[Encoder, Predictor]:
    return Encoder(enc, device=device).eval(), Predictor(pred, device=device).eval()


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def adopt(module: nn.Module, state: dict) -> None:
    """Makes the given tensors the module's parameters (no copy: a module built on the meta device takes a
    multi-gigabyte checkpoint without a second copy). Keys and shapes must already agree."""
    for name, tensor in state.items():
        owner_name, _, leaf = name.rpartition(".")
        owner = module.get_submodule(owner_name) if owner_name else module
        if leaf in owner._parameters:
            owner._parameters[leaf] = nn.Parameter(tensor, requires_grad=False)
        else:
            owner._buffers[leaf] = tensor


class TransposedLinear(nn.Module):
    """x @ W^T + b with W^T stored (contiguous): exported as MatMul on the initializer itself. torch.onnx exports an
    nn.Linear on 3-D input as MatMul(x, Transpose(W)) and constant-folds the transpose into a second copy of every
    weight; for the ViT-g encoder that is 4 GB more memory while exporting."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.weight_t = nn.Parameter(linear.weight.detach().t().contiguous(), requires_grad=False)
        self.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach(), requires_grad=False)

    def forward(self, x):
        y = torch.matmul(x, self.weight_t)
        return y if self.bias is None else y + self.bias


def transpose_linears(module: nn.Module) -> nn.Module:
    """Replaces every nn.Linear by a TransposedLinear, one at a time (each original is released as it goes). The state
    dict keys change (weight -> weight_t): for export only, after the checkpoint is loaded."""
    for name, child in list(module.named_children()):
        if isinstance(child, nn.Linear):
            setattr(module, name, TransposedLinear(child))
            del child
        else:
            transpose_linears(child)
    return module


# ----------------------------------------------------------------------------------------------- FLOPs

def flops(enc: EncoderSpec, pred: PredictorSpec, history: int) -> dict:
    """Multiply-adds x 2 of every matrix product and convolution (norms, softmax, RoPE and elementwise ops not
    counted; attention over the full L x L matrix), as models/robotctl_models/make_models.py counts them."""
    def mlp(tokens, dim, hidden, silu, wide):
        if silu:
            if wide:
                hidden = (int(2 * hidden / 3) + 7) // 8 * 8
            return 2 * 3 * tokens * dim * hidden
        return 2 * 2 * tokens * dim * hidden

    def block(tokens, dim, hidden, silu, wide):
        return (2 * tokens * dim * 3 * dim + 2 * 2 * tokens * tokens * dim + 2 * tokens * dim * dim
                + mlp(tokens, dim, hidden, silu, wide))

    n = enc.tokens
    encoder = 2 * n * 3 * enc.patch * enc.patch * enc.embed_dim + enc.depth * block(
        n, enc.embed_dim, enc.mlp_hidden, enc.use_silu, enc.wide_silu)
    per = {}
    for t in range(1, history + 1):
        tokens = t * (n + 2)
        per[str(t)] = (2 * t * n * pred.embed_dim * pred.width + 2 * 2 * t * ACTION_DIM * pred.width
                       + pred.depth * block(tokens, pred.width, pred.mlp_hidden, pred.use_silu, pred.wide_silu)
                       + 2 * t * n * pred.width * pred.embed_dim)
    return {"encoder_per_image": encoder, "predictor_per_sample": per}
