"""robotctl's own PyTorch modules for a stable-worldmodel LeWM checkpoint (stable_worldmodel.wm.lewm.LeWM).

A stable-worldmodel checkpoint is a folder with weights.pt (LeWM.state_dict()) and config.json (the hydra `model:`
config with `_target_` entries, as stable_worldmodel.wm.utils.save_pretrained writes it). This module builds, from
that config.json alone (no hydra, no transformers, no einops; torch 1.13 or 2.x), modules whose state-dict keys and
shapes are exactly the authors', so `load_state_dict(strict=True)` takes their weights unchanged, and whose eval-mode
forward computes the same function:

  LeWM                         encoder.*, predictor.*, action_encoder.*, projector.*, pred_proj.*
  encoder   (vit_hf = Hugging Face ViTModel, add_pooling_layer=False)
            embeddings.cls_token [1,1,D], embeddings.mask_token [1,1,D] (only when use_mask_token),
            embeddings.position_embeddings [1,1+N,D], embeddings.patch_embeddings.projection.{weight,bias},
            encoder.layer.<i>.{layernorm_before, attention.attention.{query,key,value}, attention.output.dense,
            layernorm_after, intermediate.dense, output.dense}.{weight,bias}, layernorm.{weight,bias}
  predictor (Predictor)        pos_embedding [1,num_frames,input_dim], transformer.{input_proj, cond_proj,
            output_proj (Linear only when the dims differ; Identity has no keys)}, transformer.layers.<i>.{attn.norm,
            attn.to_qkv (no bias), attn.to_out.0 (absent when heads == 1 and dim_head == dim), mlp.net.0 (LayerNorm),
            mlp.net.1, mlp.net.4, adaLN_modulation.1}, transformer.norm
  action_encoder (Embedder)    patch_embed (Conv1d k=1), embed.0, embed.2
  projector, pred_proj (MLP)   net.0, net.1 (norm_fn: BatchNorm1d / LayerNorm; absent when null), net.3

What is computed (eval mode: dropout off, BatchNorm on running statistics):
  latent  = projector(ViT(pixels).last_hidden_state[:, 0])      the CLS token after the ViT's final LayerNorm
  next    = pred_proj(Predictor(latents, action_encoder(actions)))   per position, causal over the T frames
The ViT is called by LeWM with interpolate_pos_encoding=True; at the image size of its config (the only size the
exported graph takes) Hugging Face returns the position table unchanged, so that is what is used here.
The predictor's attention is causal (their F.scaled_dot_product_attention(is_causal=True)); here it is written out
(MatMul, additive mask, Softmax, MatMul) with the mask precomputed for num_frames and sliced by T, which exports to
plain opset-17 ONNX with a dynamic T and needs no torch 2.x.

Errors in config.json raise CheckpointError (the importer reports it as bad input).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from .arch import HeadProjection, PlainLayerNorm, pointwise

LEWM_TARGET = "stable_worldmodel.wm.lewm.LeWM"
VIT_TARGETS = ("stable_pretraining.backbone.utils.vit_hf", "stable_pretraining.backbone.vit_hf")
PREDICTOR_TARGET = "stable_worldmodel.wm.lewm.module.Predictor"
EMBEDDER_TARGET = "stable_worldmodel.wm.lewm.module.Embedder"
MLP_TARGET = "stable_worldmodel.wm.lewm.module.MLP"

# stable_pretraining.backbone.utils.vit_hf's presets (hidden, layers, heads); intermediate = 4 x the preset's hidden,
# set before the keyword overrides are applied (so overriding hidden_size alone keeps the preset's intermediate).
VIT_SIZES = {
    "tiny": (192, 12, 3),
    "small": (384, 12, 6),
    "base": (768, 12, 12),
    "large": (1024, 24, 16),
    "huge": (1280, 32, 16),
}
# transformers.ViTConfig arguments vit_hf passes through (**kwargs) that change the network...
VIT_ARCH_KEYS = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act",
                 "layer_norm_eps", "qkv_bias", "num_channels")
# ...and those that do not change the eval-mode function (dropouts, init, heads/strides of other ViT models).
VIT_INERT_KEYS = ("hidden_dropout_prob", "attention_probs_dropout_prob", "initializer_range", "encoder_stride",
                  "pooler_output_size", "pooler_act", "attn_implementation", "_attn_implementation", "torch_dtype",
                  "output_attentions", "output_hidden_states", "return_dict")
# Hugging Face ACT2FN names this importer supports.
VIT_ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish")

# torch.nn classes that MLP's norm_fn / act_fn may name (hydra `_partial_: true` entries).
NORM_TARGETS = ("torch.nn.BatchNorm1d", "torch.nn.LayerNorm")
ACT_TARGETS = ("torch.nn.GELU", "torch.nn.ReLU", "torch.nn.SiLU", "torch.nn.Tanh", "torch.nn.Identity")

# Additive attention bias of a masked entry (as models/robotctl_models/arch.py): exp() underflows to exactly 0 like -inf,
# and no runtime kernel can turn (-inf) - (-inf) into NaN.
MASKED = -1.0e9

REQUIRED = object()


class CheckpointError(ValueError):
    """config.json or weights.pt does not describe a LeWM this importer can build (bad input, not a bug)."""


# ----------------------------------------------------------------------------------------------- config parsing

def _where(path: str) -> str:
    return f"config.json {path}" if path else "config.json"


def _arg(cfg: dict, key: str, path: str, kind: str, default=REQUIRED, minimum=None):
    """A typed constructor argument of the sub-config at `path` (JSON types; bool is not an int here)."""
    if key not in cfg or (cfg[key] is None and default is not REQUIRED):   # null = the default, as `x or default`
        if default is REQUIRED:
            raise CheckpointError(f"{_where(path)}: missing '{key}' (required by {cfg.get('_target_', 'its constructor')})")
        return default
    value = cfg[key]
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise CheckpointError(f"{_where(path)}.{key}: expected an integer, found {json_repr(value)}")
        if minimum is not None and value < minimum:
            raise CheckpointError(f"{_where(path)}.{key}: expected an integer >= {minimum}, found {value}")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise CheckpointError(f"{_where(path)}.{key}: expected a number, found {json_repr(value)}")
        value = float(value)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise CheckpointError(f"{_where(path)}.{key}: expected true or false, found {json_repr(value)}")
    elif kind == "str":
        if not isinstance(value, str):
            raise CheckpointError(f"{_where(path)}.{key}: expected a string, found {json_repr(value)}")
    return value


def json_repr(value, limit: int = 60) -> str:
    import json
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reject_unknown(cfg: dict, path: str, known) -> None:
    unknown = sorted(k for k in cfg if k not in known and k != "_target_")
    if unknown:
        raise CheckpointError(f"{_where(path)}: unexpected argument '{unknown[0]}' for {cfg.get('_target_')} "
                              f"(it takes {', '.join(known)})")


def _sub(cfg: dict, key: str, path: str, targets, optional: bool = False) -> dict | None:
    """The sub-config cfg[key], which must be an object whose _target_ is one of `targets`."""
    where = f"{path}.{key}" if path else key
    if key not in cfg or cfg[key] is None:
        if optional:
            return None
        raise CheckpointError(f"{_where(where)}: missing (LeWM needs an {key})")
    sub = cfg[key]
    if not isinstance(sub, dict):
        raise CheckpointError(f"{_where(where)}: expected an object with a _target_, found {json_repr(sub)}")
    target = sub.get("_target_")
    if target not in targets:
        raise CheckpointError(f"{_where(where)}._target_: expected {' or '.join(targets)}, found {json_repr(target)}")
    return sub


@dataclass
class VitSpec:
    size: str
    hidden: int
    layers: int
    heads: int
    intermediate: int
    image_size: int
    patch: int
    channels: int = 3
    eps: float = 1e-12
    qkv_bias: bool = True
    act: str = "gelu"
    mask_token: bool = True
    pretrained: bool = False
    ignored: list = field(default_factory=list)

    @property
    def patches(self) -> int:
        return (self.image_size // self.patch) ** 2


@dataclass
class PredictorSpec:
    num_frames: int
    depth: int
    heads: int
    mlp_dim: int
    input_dim: int
    hidden_dim: int
    output_dim: int
    dim_head: int = 64


@dataclass
class EmbedderSpec:
    input_dim: int = 10
    smoothed_dim: int = 10
    emb_dim: int = 10
    mlp_scale: int = 4


@dataclass
class MlpSpec:
    input_dim: int
    hidden_dim: int
    output_dim: int
    norm: str | None = "torch.nn.LayerNorm"      # torch.nn class of norm_fn, None = Identity (norm_fn: null)
    norm_args: dict = field(default_factory=dict)
    act: str = "torch.nn.GELU"
    act_args: dict = field(default_factory=dict)


@dataclass
class LewmSpec:
    encoder: VitSpec
    predictor: PredictorSpec
    action_encoder: EmbedderSpec
    projector: MlpSpec | None
    pred_proj: MlpSpec | None
    targets: dict
    ignored_keys: list

    @property
    def latent_dim(self) -> int:
        return self.projector.output_dim if self.projector else self.encoder.hidden


def parse_vit(cfg: dict, path: str = "encoder") -> VitSpec:
    """What stable_pretraining.backbone.utils.vit_hf(**cfg) builds: a ViTModel of a size preset, then ViTConfig
    keyword overrides (the way a checkpoint states a non-preset ViT, e.g. the tiny test fixtures)."""
    known = ("size", "patch_size", "image_size", "pretrained", "use_mask_token") + VIT_ARCH_KEYS + VIT_INERT_KEYS
    _reject_unknown(cfg, path, known)
    size = _arg(cfg, "size", path, "str", "tiny")
    if size not in VIT_SIZES:
        raise CheckpointError(f"{_where(path)}.size: expected one of {', '.join(VIT_SIZES)}, found {json_repr(size)}")
    patch = _arg(cfg, "patch_size", path, "int", 16, minimum=1)
    image = cfg.get("image_size", 224)
    if isinstance(image, list) and len(image) == 2 and image[0] == image[1]:
        image = image[0]
    if isinstance(image, list):
        raise CheckpointError(f"{_where(path)}.image_size: expected a square size, found {json_repr(image)}")
    image = _arg({"image_size": image}, "image_size", path, "int", minimum=1)
    pretrained = _arg(cfg, "pretrained", path, "bool", False)
    mask_token = _arg(cfg, "use_mask_token", path, "bool", True)     # vit_hf's default is True
    hidden, layers, heads = VIT_SIZES[size]
    spec = VitSpec(size=size, hidden=hidden, layers=layers, heads=heads, intermediate=4 * hidden, image_size=image,
                   patch=patch, mask_token=mask_token, pretrained=pretrained)
    overrides = [k for k in VIT_ARCH_KEYS if k in cfg]
    if pretrained:
        # vit_hf(pretrained=True) loads google/vit-<size>-patch<p>-<image> and ignores the keyword overrides.
        spec.ignored = overrides
    else:
        spec.hidden = _arg(cfg, "hidden_size", path, "int", spec.hidden, minimum=1)
        spec.layers = _arg(cfg, "num_hidden_layers", path, "int", spec.layers, minimum=0)
        spec.heads = _arg(cfg, "num_attention_heads", path, "int", spec.heads, minimum=1)
        spec.intermediate = _arg(cfg, "intermediate_size", path, "int", spec.intermediate, minimum=1)
        spec.act = _arg(cfg, "hidden_act", path, "str", "gelu")
        spec.eps = _arg(cfg, "layer_norm_eps", path, "float", 1e-12)
        spec.qkv_bias = _arg(cfg, "qkv_bias", path, "bool", True)
        spec.channels = _arg(cfg, "num_channels", path, "int", 3, minimum=1)
    if spec.act not in VIT_ACTIVATIONS:
        raise CheckpointError(f"{_where(path)}.hidden_act: expected one of {', '.join(VIT_ACTIVATIONS)}, "
                              f"found {json_repr(spec.act)}")
    if spec.hidden % spec.heads:
        raise CheckpointError(f"{_where(path)}: hidden_size {spec.hidden} is not a multiple of num_attention_heads "
                              f"{spec.heads}")
    if spec.channels != 3:
        raise CheckpointError(f"{_where(path)}.num_channels: robotctl feeds RGB images, expected 3, found {spec.channels}")
    if image < patch:
        raise CheckpointError(f"{_where(path)}: image_size {image} is smaller than patch_size {patch}")
    return spec


def parse_predictor(cfg: dict, path: str = "predictor") -> PredictorSpec:
    known = ("num_frames", "depth", "heads", "mlp_dim", "input_dim", "hidden_dim", "output_dim", "dim_head",
             "dropout", "emb_dropout")
    _reject_unknown(cfg, path, known)
    input_dim = _arg(cfg, "input_dim", path, "int", minimum=1)
    spec = PredictorSpec(
        num_frames=_arg(cfg, "num_frames", path, "int", minimum=1),
        depth=_arg(cfg, "depth", path, "int", minimum=0),
        heads=_arg(cfg, "heads", path, "int", minimum=1),
        mlp_dim=_arg(cfg, "mlp_dim", path, "int", minimum=1),
        input_dim=input_dim,
        hidden_dim=_arg(cfg, "hidden_dim", path, "int", minimum=1),
        output_dim=_arg(cfg, "output_dim", path, "int", input_dim, minimum=1),    # `output_dim or input_dim`
        dim_head=_arg(cfg, "dim_head", path, "int", 64, minimum=1))
    _arg(cfg, "dropout", path, "float", 0.0)
    _arg(cfg, "emb_dropout", path, "float", 0.0)
    return spec


def parse_embedder(cfg: dict, path: str = "action_encoder") -> EmbedderSpec:
    known = ("input_dim", "smoothed_dim", "emb_dim", "mlp_scale")
    _reject_unknown(cfg, path, known)
    return EmbedderSpec(input_dim=_arg(cfg, "input_dim", path, "int", 10, minimum=1),
                        smoothed_dim=_arg(cfg, "smoothed_dim", path, "int", 10, minimum=1),
                        emb_dim=_arg(cfg, "emb_dim", path, "int", 10, minimum=1),
                        mlp_scale=_arg(cfg, "mlp_scale", path, "int", 4, minimum=1))


def _partial(cfg: dict, key: str, path: str, targets, default: str | None) -> tuple[str | None, dict]:
    """A hydra `{_target_: torch.nn.X, _partial_: true, ...kwargs}` entry -> (target, kwargs); null -> (None, {})."""
    if key not in cfg:
        return default, {}
    value = cfg[key]
    if value is None:
        return None, {}
    where = f"{path}.{key}"
    if not isinstance(value, dict) or value.get("_target_") not in targets:
        found = value.get("_target_") if isinstance(value, dict) else value
        raise CheckpointError(f"{_where(where)}: expected null or a _partial_ {' or '.join(targets)}, "
                              f"found {json_repr(found)}")
    if value.get("_partial_") is not True:
        raise CheckpointError(f"{_where(where)}._partial_: expected true (MLP calls it with the width), "
                              f"found {json_repr(value.get('_partial_'))}")
    return value["_target_"], {k: v for k, v in value.items() if k not in ("_target_", "_partial_")}


def parse_mlp(cfg: dict, path: str) -> MlpSpec:
    known = ("input_dim", "hidden_dim", "output_dim", "norm_fn", "act_fn")
    _reject_unknown(cfg, path, known)
    input_dim = _arg(cfg, "input_dim", path, "int", minimum=1)
    norm, norm_args = _partial(cfg, "norm_fn", path, NORM_TARGETS, "torch.nn.LayerNorm")
    act, act_args = _partial(cfg, "act_fn", path, ACT_TARGETS, "torch.nn.GELU")
    if act is None:
        raise CheckpointError(f"{_where(path)}.act_fn: null is not callable (MLP calls act_fn())")
    allowed = {"torch.nn.BatchNorm1d": ("eps", "momentum", "affine", "track_running_stats"),
               "torch.nn.LayerNorm": ("eps", "elementwise_affine"), None: ()}[norm]
    for k, v in norm_args.items():
        if k not in allowed:
            raise CheckpointError(f"{_where(path)}.norm_fn: unexpected argument '{k}' (supported: {', '.join(allowed)})")
    if norm_args.get("track_running_stats") is False:
        raise CheckpointError(f"{_where(path)}.norm_fn: BatchNorm1d with track_running_stats false normalises with "
                              "batch statistics even in eval mode; a per-sample graph cannot reproduce it")
    for k in act_args:
        if not (act == "torch.nn.GELU" and k == "approximate"):
            raise CheckpointError(f"{_where(path)}.act_fn: unexpected argument '{k}'")
    return MlpSpec(input_dim=input_dim, hidden_dim=_arg(cfg, "hidden_dim", path, "int", minimum=1),
                   output_dim=_arg(cfg, "output_dim", path, "int", input_dim, minimum=1),
                   norm=norm, norm_args=norm_args, act=act, act_args=act_args)


def collect_targets(cfg, path: str = "") -> dict:
    """Every _target_ in the config, by its dotted path ('' = the model itself)."""
    out = {}
    if isinstance(cfg, dict):
        if isinstance(cfg.get("_target_"), str):
            out[path or "model"] = cfg["_target_"]
        for k, v in cfg.items():
            out.update(collect_targets(v, f"{path}.{k}" if path else k))
    return out


def parse_config(cfg) -> LewmSpec:
    """config.json (already parsed JSON) -> LewmSpec, checking what LeWM's constructors would refuse or we cannot
    export. Raises CheckpointError naming the field."""
    if not isinstance(cfg, dict):
        raise CheckpointError(f"config.json: expected an object with _target_ {LEWM_TARGET}, found {json_repr(cfg)}")
    target = cfg.get("_target_")
    if target != LEWM_TARGET:
        raise CheckpointError(f"config.json _target_: expected {LEWM_TARGET}, found {json_repr(target)}"
                              + (" (not a LeWM checkpoint)" if isinstance(target, str) else ""))
    encoder = parse_vit(_sub(cfg, "encoder", "", VIT_TARGETS))
    predictor = parse_predictor(_sub(cfg, "predictor", "", (PREDICTOR_TARGET,)))
    embedder = parse_embedder(_sub(cfg, "action_encoder", "", (EMBEDDER_TARGET,)))
    proj_cfg = _sub(cfg, "projector", "", (MLP_TARGET,), optional=True)
    pred_cfg = _sub(cfg, "pred_proj", "", (MLP_TARGET,), optional=True)
    projector = parse_mlp(proj_cfg, "projector") if proj_cfg is not None else None
    pred_proj = parse_mlp(pred_cfg, "pred_proj") if pred_cfg is not None else None
    # LeWM takes **kwargs and ignores them; so does this importer (they are listed in model.json's import object).
    ignored = sorted(k for k in cfg if k not in ("_target_", "encoder", "predictor", "action_encoder", "projector",
                                                 "pred_proj"))
    spec = LewmSpec(encoder=encoder, predictor=predictor, action_encoder=embedder, projector=projector,
                    pred_proj=pred_proj, targets=collect_targets(cfg), ignored_keys=ignored)
    _check_dims(spec)
    return spec


def _check_dims(spec: LewmSpec) -> None:
    """The widths that must chain for LeWM.encode/predict to run and for a rollout to feed predictions back."""
    d = spec.encoder.hidden
    if spec.projector and spec.projector.input_dim != d:
        raise CheckpointError(f"config.json projector.input_dim: expected the ViT width {d}, found "
                              f"{spec.projector.input_dim}")
    latent = spec.latent_dim
    p = spec.predictor
    if p.input_dim != latent:
        raise CheckpointError(f"config.json predictor.input_dim: expected the latent size {latent} "
                              f"({'projector.output_dim' if spec.projector else 'the ViT width'}), found {p.input_dim}")
    if spec.action_encoder.emb_dim != p.input_dim:
        raise CheckpointError(f"config.json action_encoder.emb_dim: expected predictor.input_dim {p.input_dim} "
                              f"(the predictor's cond_proj takes it), found {spec.action_encoder.emb_dim}")
    out = p.output_dim
    if spec.pred_proj:
        if spec.pred_proj.input_dim != out:
            raise CheckpointError(f"config.json pred_proj.input_dim: expected predictor.output_dim {out}, found "
                                  f"{spec.pred_proj.input_dim}")
        out = spec.pred_proj.output_dim
    if out != latent:
        raise CheckpointError(f"config.json {'pred_proj' if spec.pred_proj else 'predictor'}.output_dim: the "
                              f"prediction must be a latent of size {latent} (it is fed back), found {out}")


# ----------------------------------------------------------------------------------------------- building blocks

# PlainLayerNorm (affine-free LayerNorm that torch 1.13 can export): the one in arch.py, beside this file.


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, bias: torch.Tensor | None):
    """softmax(q k^T * scale + bias) v over [B, heads, L, head_dim]."""
    scores = torch.matmul(q, k.transpose(-2, -1)) * scale
    if bias is not None:
        scores = scores + bias
    return torch.matmul(scores.softmax(dim=-1), v)


def _split_heads(x: torch.Tensor, length, heads: int, head_dim: int) -> torch.Tensor:
    """[B, L, heads*head_dim] -> [B, heads, L, head_dim] (einops 'b t (h d) -> b h t d'); -1 for the batch."""
    return x.reshape(-1, length, heads, head_dim).transpose(1, 2)


def _merge_heads(x: torch.Tensor, length, width: int) -> torch.Tensor:
    """[B, heads, L, head_dim] -> [B, L, heads*head_dim] (einops 'b h t d -> b t (h d)')."""
    return x.transpose(1, 2).reshape(-1, length, width)


def _activation(name: str) -> nn.Module:
    return {"gelu": nn.GELU(), "gelu_new": nn.GELU(approximate="tanh"), "gelu_pytorch_tanh": nn.GELU(approximate="tanh"),
            "relu": nn.ReLU(), "silu": nn.SiLU(), "swish": nn.SiLU()}[name]


# ----------------------------------------------------------------------------------------------- ViT (vit_hf)

class _Holder(nn.Module):
    """A plain container, so attribute paths (and state-dict keys) read like Hugging Face's."""


class _PatchEmbeddings(nn.Module):
    def __init__(self, s: VitSpec):
        super().__init__()
        self.projection = nn.Conv2d(s.channels, s.hidden, kernel_size=s.patch, stride=s.patch)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.projection(pixels).flatten(2).transpose(1, 2)          # [B, N, D]


class _Embeddings(nn.Module):
    def __init__(self, s: VitSpec):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, s.hidden))
        if s.mask_token:   # only used with bool_masked_pos (training); kept so the keys match
            self.mask_token = nn.Parameter(torch.zeros(1, 1, s.hidden))
        self.patch_embeddings = _PatchEmbeddings(s)
        self.position_embeddings = nn.Parameter(torch.zeros(1, s.patches + 1, s.hidden))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.patch_embeddings(pixels)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        return x + self.position_embeddings


class _SelfAttention(nn.Module):
    def __init__(self, s: VitSpec):
        super().__init__()
        self.heads, self.head_dim = s.heads, s.hidden // s.heads
        self.query = nn.Linear(s.hidden, s.hidden, bias=s.qkv_bias)
        self.key = nn.Linear(s.hidden, s.hidden, bias=s.qkv_bias)
        self.value = nn.Linear(s.hidden, s.hidden, bias=s.qkv_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        q, k, v = (_split_heads(f(x), length, self.heads, self.head_dim) for f in (self.query, self.key, self.value))
        y = _attend(q, k, v, self.head_dim ** -0.5, None)
        return _merge_heads(y, length, self.heads * self.head_dim)


class _Dense(nn.Module):
    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)


class _Attention(nn.Module):
    def __init__(self, s: VitSpec):
        super().__init__()
        self.attention = _SelfAttention(s)
        self.output = _Dense(s.hidden, s.hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output.dense(self.attention(x))


class _Layer(nn.Module):
    """ViTLayer: x + attn(LN(x)); then + output(act(intermediate(LN(x))))."""

    def __init__(self, s: VitSpec):
        super().__init__()
        self.attention = _Attention(s)
        self.intermediate = _Dense(s.hidden, s.intermediate)
        self.output = _Dense(s.intermediate, s.hidden)
        self.layernorm_before = nn.LayerNorm(s.hidden, eps=s.eps)
        self.layernorm_after = nn.LayerNorm(s.hidden, eps=s.eps)
        self.act = _activation(s.act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.layernorm_before(x))
        return x + self.output.dense(self.act(self.intermediate.dense(self.layernorm_after(x))))


class ViT(nn.Module):
    """Hugging Face ViTModel(add_pooling_layer=False) in eval mode; forward returns the CLS token of
    last_hidden_state (the final LayerNorm is per token, so it is applied to that token only)."""

    def __init__(self, s: VitSpec):
        super().__init__()
        self.spec = s
        self.embeddings = _Embeddings(s)
        self.encoder = _Holder()
        self.encoder.layer = nn.ModuleList(_Layer(s) for _ in range(s.layers))
        self.layernorm = nn.LayerNorm(s.hidden, eps=s.eps)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.embeddings(pixels)
        for layer in self.encoder.layer:
            x = layer(x)
        return self.layernorm(x[:, 0])


# ----------------------------------------------------------------------------------------------- Predictor

class Attention(HeadProjection, nn.Module):
    """LeWM's Attention: LayerNorm, to_qkv (no bias), causal attention, to_out (Linear, or Identity when
    heads == 1 and dim_head == dim)."""

    def __init__(self, dim: int, heads: int, dim_head: int):
        super().__init__()
        self.heads, self.dim_head = heads, dim_head
        inner = heads * dim_head
        self.scale = dim_head ** -0.5
        self.norm = nn.LayerNorm(dim)
        self.to_qkv = nn.Linear(dim, inner * 3, bias=False)
        project_out = not (heads == 1 and dim_head == dim)
        self.to_out = nn.Sequential(nn.Linear(inner, dim), nn.Dropout(0.0)) if project_out else nn.Identity()

    @property
    def qkv_linear(self) -> nn.Linear:
        return self.to_qkv

    @property
    def head_size(self) -> int:
        return self.dim_head

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """What q, k and v are projected from: x through this attention's own LayerNorm."""
        return self.norm(x)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        q, k, v = self.project(x)
        y = _attend(q, k, v, self.scale, bias)
        return self.to_out(_merge_heads(y, x.shape[1], self.heads * self.dim_head))


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(0.0),
                                 nn.Linear(hidden, dim), nn.Dropout(0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConditionalBlock(nn.Module):
    """AdaLN-zero block: shift/scale/gate for attention and MLP from the (projected) action embedding."""

    def __init__(self, dim: int, heads: int, dim_head: int, mlp_dim: int):
        super().__init__()
        self.attn = Attention(dim, heads, dim_head)
        self.mlp = FeedForward(dim, mlp_dim)
        self.norm1 = PlainLayerNorm(dim, eps=1e-6)
        self.norm2 = PlainLayerNorm(dim, eps=1e-6)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))

    def forward(self, x: torch.Tensor, c: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.adaLN_modulation(c).chunk(6, dim=-1)
        x = x + gate1 * self.attn(self.norm1(x) * (1 + scale1) + shift1, bias)
        return x + gate2 * self.mlp(self.norm2(x) * (1 + scale2) + shift2)


def _linear_or_identity(n_in: int, n_out: int) -> nn.Module:
    return nn.Linear(n_in, n_out) if n_in != n_out else nn.Identity()


class Transformer(nn.Module):
    def __init__(self, p: PredictorSpec):
        super().__init__()
        self.norm = nn.LayerNorm(p.hidden_dim)
        self.layers = nn.ModuleList(ConditionalBlock(p.hidden_dim, p.heads, p.dim_head, p.mlp_dim)
                                    for _ in range(p.depth))
        self.input_proj = _linear_or_identity(p.input_dim, p.hidden_dim)
        self.cond_proj = _linear_or_identity(p.input_dim, p.hidden_dim)
        self.output_proj = _linear_or_identity(p.hidden_dim, p.output_dim)

    def forward(self, x: torch.Tensor, c: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = self.input_proj(x)
        c = self.cond_proj(c)
        for block in self.layers:
            x = block(x, c, bias)
        return self.output_proj(self.norm(x))


def causal_bias(length: int) -> torch.Tensor:
    """[L, L] additive bias: position t attends to positions <= t (is_causal=True, top-left aligned)."""
    allowed = torch.tril(torch.ones(length, length, dtype=torch.bool))
    return torch.zeros(length, length).masked_fill(~allowed, MASKED)


class Predictor(nn.Module):
    """latents [B, T, input_dim], action embedding [B, T, input_dim] -> [B, T, output_dim], causal over T <= num_frames.
    Position table and mask are for num_frames and sliced by the input's T (never rebuilt from a traced size)."""

    def __init__(self, p: PredictorSpec):
        super().__init__()
        self.num_frames = p.num_frames
        self.pos_embedding = nn.Parameter(torch.zeros(1, p.num_frames, p.input_dim))
        self.transformer = Transformer(p)
        self.register_buffer("mask", causal_bias(p.num_frames), persistent=False)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        steps = x.shape[1]
        x = x + self.pos_embedding[:, :steps]
        return self.transformer(x, c, self.mask[:steps, :steps])


# ----------------------------------------------------------------------------------------------- Embedder, MLP

class Embedder(nn.Module):
    """actions [B, T, input_dim] -> Conv1d(k=1) over the feature axis -> Linear, SiLU, Linear -> [B, T, emb_dim]."""

    def __init__(self, e: EmbedderSpec):
        super().__init__()
        self.patch_embed = nn.Conv1d(e.input_dim, e.smoothed_dim, kernel_size=1, stride=1)
        self.embed = nn.Sequential(nn.Linear(e.smoothed_dim, e.mlp_scale * e.emb_dim), nn.SiLU(),
                                   nn.Linear(e.mlp_scale * e.emb_dim, e.emb_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pointwise(self.patch_embed, x)
        return self.embed(x)


def _norm(m: MlpSpec) -> nn.Module:
    if m.norm is None:
        return nn.Identity()
    if m.norm == "torch.nn.BatchNorm1d":
        args = {k: v for k, v in m.norm_args.items() if k in ("eps", "momentum", "affine", "track_running_stats")}
        return nn.BatchNorm1d(m.hidden_dim, **args)
    return nn.LayerNorm(m.hidden_dim, **m.norm_args)


class MLP(nn.Module):
    """Linear, norm_fn(hidden) (BatchNorm1d: running statistics in eval), act_fn(), Linear; on [N, input_dim] as
    LeWM calls it, or on [B, T, input_dim] with the same per-row result (BatchNorm1d then normalises dim 1 of the
    transposed [B, hidden, T], the same per-feature affine in eval mode)."""

    def __init__(self, m: MlpSpec):
        super().__init__()
        act = {"torch.nn.GELU": nn.GELU, "torch.nn.ReLU": nn.ReLU, "torch.nn.SiLU": nn.SiLU, "torch.nn.Tanh": nn.Tanh,
               "torch.nn.Identity": nn.Identity}[m.act](**m.act_args)
        self.net = nn.Sequential(nn.Linear(m.input_dim, m.hidden_dim), _norm(m), act,
                                 nn.Linear(m.hidden_dim, m.output_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.net:
            if isinstance(layer, nn.BatchNorm1d) and x.dim() == 3:
                x = layer(x.transpose(1, 2)).transpose(1, 2)
            else:
                x = layer(x)
        return x


# ----------------------------------------------------------------------------------------------- LeWM

class LeWM(nn.Module):
    """The checkpoint's module tree (state-dict keys exactly the authors'); encode() and predict() as LeWM's."""

    def __init__(self, spec: LewmSpec):
        super().__init__()
        self.spec = spec
        self.encoder = ViT(spec.encoder)
        self.predictor = Predictor(spec.predictor)
        self.action_encoder = Embedder(spec.action_encoder)
        self.projector = MLP(spec.projector) if spec.projector else nn.Identity()
        self.pred_proj = MLP(spec.pred_proj) if spec.pred_proj else nn.Identity()

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """pixels [B, 3, H, W] (normalised) -> latent [B, D]."""
        return self.projector(self.encoder(pixels))

    def predict(self, latents: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """latents [B, T, D], actions [B, T, action_encoder.input_dim] (normalised) -> next latents [B, T, D]."""
        # LeWM.predict applies pred_proj to [(B T), d]; per row it is the same on [B, T, d], and without the
        # reshapes the exported output keeps a static last dim.
        return self.pred_proj(self.predictor(latents, self.action_encoder(actions)))


def build(spec: LewmSpec) -> LeWM:
    """The module tree for a spec, in eval mode (weights are placeholders until load_state_dict)."""
    return LeWM(spec).eval()


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
