"""Tiny shims that let the LeWM authors' own code run on this machine.

Written by us.  Nothing here re-implements the model: it only satisfies imports
that the authors' files make (einops, a few transformers internals, loguru,
torchvision, packaging) and back-fills one torch 2.x function that torch 1.13
lacks.  Every model class that runs (LeWM, Predictor, Embedder, MLP, the
Hugging Face ViTModel and its layers, vit_hf, GoalMSE, flat_goal_encode) is
loaded from the authors' / Hugging Face's source files, unmodified.

`install(...)` registers everything in sys.modules and returns the list of
shims it used (each with the reason), which the driver writes into refs.json.
"""

import dataclasses
import functools
import importlib
import importlib.util
import logging as _pylogging
import math
import os
import re
import sys
import types

import torch
import torch.nn.functional as F
from torch import nn

SHIMS = []  # (name, why) in the order installed


def _note(name, why):
    SHIMS.append({"shim": name, "why": why})


def synthetic_module(name, path=None, **attrs):
    """A synthetic module/package. __path__=[] stops stray imports from
    reaching the real (heavy) package __init__ files: they fail loudly."""
    m = types.ModuleType(name)
    if path is not None:
        m.__path__ = list(path)
    for k, v in attrs.items():
        setattr(m, k, v)
    sys.modules[name] = m
    parent, _, leaf = name.rpartition(".")
    if parent and parent in sys.modules:
        setattr(sys.modules[parent], leaf, m)
    return m


def load_file(name, path, package_dir=None):
    """Execute a real source file as module `name` (relative imports resolve
    against the synthetic parents already in sys.modules)."""
    kw = {"submodule_search_locations": [package_dir]} if package_dir else {}
    spec = importlib.util.spec_from_file_location(name, path, **kw)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    parent, _, leaf = name.rpartition(".")
    if parent and parent in sys.modules:
        setattr(sys.modules[parent], leaf, mod)
    return mod


# --------------------------------------------------------------------------
# 1. einops.rearrange (einops is not installed).  Pure reshape/permute.
# --------------------------------------------------------------------------
def _parse_side(side):
    groups, i, toks = [], 0, re.findall(r"\(|\)|\.\.\.|[A-Za-z_][A-Za-z0-9_]*|\d+", side)
    while i < len(toks):
        if toks[i] == "(":
            j = toks.index(")", i)
            groups.append(toks[i + 1:j])
            i = j + 1
        else:
            groups.append([toks[i]])
            i += 1
    return groups


def rearrange(tensor, pattern, **sizes):
    lhs, rhs = (s.strip() for s in pattern.split("->"))
    L, R = _parse_side(lhs), _parse_side(rhs)
    if ["..."] in L:
        k = L.index(["..."])
        n = tensor.ndim - (len(L) - 1)
        ell = [["…%d" % e] for e in range(n)]
        L = L[:k] + ell + L[k + 1:]
        if ["..."] in R:
            r = R.index(["..."])
            R = R[:r] + ell + R[r + 1:]
    if len(L) != tensor.ndim:
        raise ValueError(f"rearrange: {pattern} vs shape {tuple(tensor.shape)}")
    known = dict(sizes)
    for g, d in zip(L, tensor.shape):
        unknown = [a for a in g if a not in known]
        prod = math.prod(known[a] for a in g if a in known)
        if len(unknown) == 1:
            known[unknown[0]] = d // prod
        elif unknown:
            raise ValueError(f"rearrange: cannot infer {unknown} in {pattern}")
        if math.prod(known[a] for a in g) != d:
            raise ValueError(f"rearrange: size mismatch for {g} in {pattern}")
    elem = [a for g in L for a in g]
    relem = [a for g in R for a in g]
    if sorted(elem) != sorted(relem):
        raise ValueError(f"rearrange: axes differ in {pattern}")
    x = tensor.reshape([known[a] for a in elem])
    x = x.permute([elem.index(a) for a in relem])
    return x.reshape([math.prod(known[a] for a in g) for g in R])


# --------------------------------------------------------------------------
# 2. F.scaled_dot_product_attention (torch >= 2.0 only).  The reference
#    semantics from the PyTorch docs: is_causal = top-left lower triangle
#    (tril(diagonal=0)) of an L x S mask, scale defaults to 1/sqrt(E).
# --------------------------------------------------------------------------
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None):
    L, S = query.size(-2), key.size(-2)
    scale_factor = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    attn_bias = torch.zeros(L, S, dtype=query.dtype, device=query.device)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("is_causal with an explicit attn_mask")
        keep = torch.ones(L, S, dtype=torch.bool, device=query.device).tril(diagonal=0)
        attn_bias.masked_fill_(keep.logical_not(), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            attn_bias = attn_bias.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            attn_bias = attn_mask + attn_bias
    attn_weight = query @ key.transpose(-2, -1) * scale_factor
    attn_weight = attn_weight + attn_bias
    attn_weight = torch.softmax(attn_weight, dim=-1)
    if dropout_p > 0.0:
        attn_weight = torch.dropout(attn_weight, dropout_p, train=True)
    return attn_weight @ value


# --------------------------------------------------------------------------
# 3. transformers internals around the real modeling_vit.py
# --------------------------------------------------------------------------
class _HFLogger:
    def __init__(self, name):
        self._l = _pylogging.getLogger(name)
        self._seen = set()

    def __getattr__(self, k):
        return getattr(self._l, k)

    def warning_once(self, msg, *a):
        if msg not in self._seen:
            self._seen.add(msg)
            self._l.warning(msg, *a)


def _identity_decorator_factory(*_a, **_k):
    return lambda f: f


def torch_int(x):
    """transformers.utils.torch_int: int64 tensor while tracing, else int."""
    if torch.jit.is_tracing() and isinstance(x, torch.Tensor):
        return x.to(torch.int64)
    return int(x)


class ModelOutput:
    """Minimal stand-in for transformers.utils.ModelOutput (an OrderedDict
    with attribute access): dataclass subclasses get attribute access, int
    indexing over the non-None fields, and to_tuple()."""

    def to_tuple(self):
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self)
                     if getattr(self, f.name) is not None)

    def __getitem__(self, k):
        return getattr(self, k) if isinstance(k, str) else self.to_tuple()[k]


# transformers >= 4.36 selects "sdpa" for ViT when torch has it (PreTrainedModel
# __init__ -> _autoset_attn_implementation, ViTPreTrainedModel._supports_sdpa);
# that is what the authors' runs used.  "eager" is the other real code path.
ATTN_IMPLEMENTATION = {"value": "sdpa"}


class PretrainedConfig:
    """Minimal stand-in for transformers.PretrainedConfig: the defaults that
    ViT reads (output_*, return_dict, chunk_size_feed_forward,
    _attn_implementation) and attribute storage for everything else."""

    model_type = ""

    def __init__(self, **kwargs):
        self.output_attentions = kwargs.pop("output_attentions", False)
        self.output_hidden_states = kwargs.pop("output_hidden_states", False)
        self.return_dict = kwargs.pop("return_dict", True)
        self.torchscript = kwargs.pop("torchscript", False)
        self.chunk_size_feed_forward = kwargs.pop("chunk_size_feed_forward", 0)
        self._attn_implementation = kwargs.pop("attn_implementation", None) or ATTN_IMPLEMENTATION["value"]
        for k, v in kwargs.items():
            setattr(self, k, v)

    @property
    def use_return_dict(self):
        return self.return_dict and not self.torchscript


class PreTrainedModel(nn.Module):
    """Minimal stand-in for transformers.PreTrainedModel: keeps config,
    post_init() runs the model's own _init_weights over every submodule (as
    the real init_weights does), get_head_mask(None) -> [None]*layers."""

    config_class = None
    base_model_prefix = ""
    main_input_name = "input_ids"

    def __init__(self, config, *inputs, **kwargs):
        super().__init__()
        self.config = config

    def post_init(self):
        if hasattr(self, "_init_weights"):
            self.apply(self._init_weights)

    def get_head_mask(self, head_mask, num_hidden_layers, is_attention_chunked=False):
        if head_mask is not None:
            raise NotImplementedError("head_mask is not supported by this shim")
        return [None] * num_hidden_layers


def _unsupported(*_a, **_k):
    raise NotImplementedError("head pruning is not supported by this shim")


class _Version(tuple):
    pass


def _version_parse(s):
    return _Version(int(p) for p in re.findall(r"\d+", str(s).split("+")[0])[:3])


def _find_transformers_src(root):
    for cand in (os.path.join(root, "src", "transformers"), os.path.join(root, "transformers"), root):
        if os.path.isfile(os.path.join(cand, "models", "vit", "modeling_vit.py")):
            return cand
    raise FileNotFoundError(f"no transformers/models/vit/modeling_vit.py under {root}")


def install_transformers(root, attn_implementation="sdpa"):
    src = _find_transformers_src(root)
    ATTN_IMPLEMENTATION["value"] = attn_implementation
    try:
        import packaging.version  # noqa: F401
    except ImportError:
        synthetic_module("packaging", path=[])
        synthetic_module("packaging.version", parse=_version_parse, Version=_Version)
        _note("packaging.version.parse", "activations.py and configuration_vit.py import it (not installed); only compared against torch versions in unused classes")
    synthetic_module("transformers", path=[])
    logging_mod = types.SimpleNamespace(get_logger=_HFLogger)
    synthetic_module("transformers.utils", path=[], logging=logging_mod, ModelOutput=ModelOutput,
            torch_int=torch_int,
            add_code_sample_docstrings=_identity_decorator_factory,
            add_start_docstrings=_identity_decorator_factory,
            add_start_docstrings_to_model_forward=_identity_decorator_factory,
            replace_return_docstrings=_identity_decorator_factory)
    _note("transformers.utils", "the real utils package pulls in hub/tokenizer/safetensors code; modeling_vit needs only logging, torch_int, ModelOutput and docstring decorators (no-ops here)")
    synthetic_module("transformers.configuration_utils", PretrainedConfig=PretrainedConfig)
    _note("transformers.configuration_utils.PretrainedConfig", "base of the real ViTConfig; supplies output_attentions/output_hidden_states/return_dict/chunk_size_feed_forward defaults and _attn_implementation=%r" % attn_implementation)
    synthetic_module("transformers.onnx", OnnxConfig=type("OnnxConfig", (), {}))
    _note("transformers.onnx.OnnxConfig", "base of ViTOnnxConfig in configuration_vit.py; never used")
    synthetic_module("transformers.pytorch_utils", find_pruneable_heads_and_indices=_unsupported, prune_linear_layer=_unsupported)
    _note("transformers.pytorch_utils", "head-pruning helpers imported by modeling_vit; never called")
    synthetic_module("transformers.integrations", path=[])
    sdpa = load_file("transformers.integrations.sdpa_attention", os.path.join(src, "integrations", "sdpa_attention.py"))
    synthetic_module("transformers.modeling_utils", PreTrainedModel=PreTrainedModel,
            ALL_ATTENTION_FUNCTIONS={"sdpa": sdpa.sdpa_attention_forward})
    _note("transformers.modeling_utils.PreTrainedModel", "the real one is the hub/loading machinery (huggingface_hub, safetensors, torch>=2); ViT needs config storage, post_init (runs ViT's own _init_weights) and get_head_mask(None)")
    _note("transformers.modeling_utils.ALL_ATTENTION_FUNCTIONS", "holds only the real integrations/sdpa_attention.py sdpa_attention_forward")
    load_file("transformers.activations", os.path.join(src, "activations.py"))
    load_file("transformers.modeling_outputs", os.path.join(src, "modeling_outputs.py"))
    synthetic_module("transformers.models", path=[])
    synthetic_module("transformers.models.vit", path=[])
    cfg = load_file("transformers.models.vit.configuration_vit", os.path.join(src, "models", "vit", "configuration_vit.py"))
    mv = load_file("transformers.models.vit.modeling_vit", os.path.join(src, "models", "vit", "modeling_vit.py"))
    t = sys.modules["transformers"]
    t.ViTConfig, t.ViTModel, t.TimmWrapperModel = cfg.ViTConfig, mv.ViTModel, None
    return src


# --------------------------------------------------------------------------
# 4. stable_pretraining.backbone.utils (real file; loguru/torchvision absent)
# --------------------------------------------------------------------------
class _Loguru:
    def __getattr__(self, k):
        return getattr(_pylogging.getLogger("stable_pretraining"), {"success": "info", "trace": "debug"}.get(k, k))


class _BareNoGrad(torch.no_grad):
    """torch.no_grad that also accepts the torch>=2 bare-decorator form."""

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if orig_func is not None:
            torch.no_grad.__init__(self)
            return self(orig_func)
        return self

    def __init__(self, orig_func=None):
        super().__init__()


def install_stable_pretraining(root):
    if root is None:
        return None
    path = os.path.join(root, "stable_pretraining", "backbone", "utils.py")
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    if "torchvision" not in sys.modules:
        try:
            import torchvision  # noqa: F401
        except ImportError:
            synthetic_module("torchvision", path=[])
            _note("torchvision (empty module)", "stable_pretraining/backbone/utils.py imports it at top level; only its from_torchvision helper uses it")
    if "loguru" not in sys.modules:
        try:
            import loguru  # noqa: F401
        except ImportError:
            synthetic_module("loguru", logger=_Loguru())
            _note("loguru.logger", "stable_pretraining/backbone/utils.py logs through it (not installed); forwarded to std logging")
    synthetic_module("stable_pretraining", path=[])
    synthetic_module("stable_pretraining.backbone", path=[])
    synthetic_module("stable_pretraining.data", path=[])
    _note("stable_pretraining / .backbone / .data packages (empty)", "their __init__ files import lightning, omegaconf, datasets...; only backbone/utils.py (vit_hf) and data/dataset_stats.py (ImageNet mean/std) are loaded, from the real files")
    load_file("stable_pretraining.data.dataset_stats", os.path.join(root, "stable_pretraining", "data", "dataset_stats.py"))
    try:
        torch.no_grad(lambda: None)
        return load_file("stable_pretraining.backbone.utils", path)
    except TypeError:  # torch < 2.0: no bare @torch.no_grad
        pass
    orig = torch.no_grad
    torch.no_grad = _BareNoGrad
    try:
        return load_file("stable_pretraining.backbone.utils", path)
    finally:
        torch.no_grad = orig
        _note("bare @torch.no_grad decorator (while loading backbone/utils.py only)", "torch %s's no_grad takes no function argument; TeacherStudentWrapper (unused here) is decorated with the bare form at class-definition time" % torch.__version__)


def vit_hf_fallback(size="tiny", patch_size=16, image_size=224, pretrained=False,
                    use_mask_token=True, **kwargs):
    """Used only when no stable-pretraining source is given: the same
    construction as stable_pretraining.backbone.utils.vit_hf (size table,
    intermediate = 4 x hidden, ViTModel(add_pooling_layer=False),
    config.interpolate_pos_encoding=True)."""
    table = {"tiny": (192, 12, 3), "small": (384, 12, 6), "base": (768, 12, 12),
             "large": (1024, 24, 16), "huge": (1280, 32, 16)}
    h, n, a = table[size]
    params = dict(hidden_size=h, num_hidden_layers=n, num_attention_heads=a,
                  intermediate_size=4 * h, image_size=image_size, patch_size=patch_size)
    params.update(kwargs)
    t = sys.modules["transformers"]
    model = t.ViTModel(t.ViTConfig(**params), add_pooling_layer=False, use_mask_token=use_mask_token)
    model.config.interpolate_pos_encoding = True
    return model


# --------------------------------------------------------------------------
# 5. stable_worldmodel: load lewm/, planning/objective.py, planning/evaluator.py
#    and protocols.py without the package __init__ (gymnasium, envs, data...)
# --------------------------------------------------------------------------
def install_stable_worldmodel(root):
    pkg = os.path.join(root, "stable_worldmodel")
    if not os.path.isfile(os.path.join(pkg, "wm", "lewm", "lewm.py")):
        raise FileNotFoundError(f"no stable_worldmodel/wm/lewm/lewm.py under {root}")
    if "einops" not in sys.modules:
        try:
            import einops  # noqa: F401
        except ImportError:
            synthetic_module("einops", rearrange=rearrange)
            _note("einops.rearrange", "lewm.py and module.py import it (not installed); reshape/permute only")
    synthetic_module("stable_worldmodel", path=[])
    synthetic_module("stable_worldmodel.wm", path=[])
    synthetic_module("stable_worldmodel.planning", path=[])
    _note("stable_worldmodel / .wm / .planning packages (empty)", "their __init__ files import envs, gymnasium, data loaders, solvers; only wm/lewm/*, protocols.py, planning/objective.py and planning/evaluator.py are loaded, from the real files")
    load_file("stable_worldmodel.protocols", os.path.join(pkg, "protocols.py"))
    lewm = load_file("stable_worldmodel.wm.lewm", os.path.join(pkg, "wm", "lewm", "__init__.py"),
                     package_dir=os.path.join(pkg, "wm", "lewm"))
    importlib.import_module("stable_worldmodel.wm.lewm.module")
    obj = load_file("stable_worldmodel.planning.objective", os.path.join(pkg, "planning", "objective.py"))
    ev = load_file("stable_worldmodel.planning.evaluator", os.path.join(pkg, "planning", "evaluator.py"))
    return lewm, obj, ev


def install_sdpa():
    if not hasattr(F, "scaled_dot_product_attention"):
        F.scaled_dot_product_attention = scaled_dot_product_attention
        _note("torch.nn.functional.scaled_dot_product_attention", "torch %s lacks it (2.0+); LeWM's Attention calls it with is_causal=True and HF's sdpa path with is_causal=False; implemented as the PyTorch-documented reference (tril(0) causal mask, scale 1/sqrt(E))" % torch.__version__)


def install(authors, transformers_root, stable_pretraining=None, attn_implementation="sdpa"):
    """Register everything; returns dict of the loaded real modules."""
    install_sdpa()
    install_transformers(transformers_root, attn_implementation)
    spt_utils = install_stable_pretraining(stable_pretraining)
    if spt_utils is None:
        synthetic_module("stable_pretraining", path=[])
        synthetic_module("stable_pretraining.backbone", path=[])
        synthetic_module("stable_pretraining.backbone.utils", vit_hf=vit_hf_fallback)
        synthetic_module("stable_pretraining.data", path=[])
        synthetic_module("stable_pretraining.data.dataset_stats",
                ImageNet=dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]))
        _note("stable_pretraining.backbone.utils.vit_hf (FALLBACK)", "no --stable-pretraining given: our restatement of vit_hf and of ImageNet mean/std is used instead of theirs")
    lewm, obj, ev = install_stable_worldmodel(authors)
    return {"lewm": lewm, "objective": obj, "evaluator": ev,
            "dataset_stats": sys.modules["stable_pretraining.data.dataset_stats"],
            "modeling_vit": sys.modules["transformers.models.vit.modeling_vit"]}


def install_cem_solver(authors):
    """stable_worldmodel.planning.solver.cem.CEMSolver from their files (the planner LeWM's eval runs). Their solver
    package __init__ imports every solver; only cem.py and what it imports (utils, callbacks, solver) are loaded."""
    pkg = os.path.join(authors, "stable_worldmodel")
    try:
        import gymnasium  # noqa: F401
    except ImportError:
        class Space:  # noqa: D401 - a marker class, as gym.Space is to cem.py (annotations, isinstance)
            pass

        class Box(Space):
            def __init__(self, low, high, shape=None, dtype=None):
                self.low, self.high, self.shape, self.dtype = low, high, tuple(shape), dtype

        spaces = synthetic_module("gymnasium.spaces", Box=Box, Space=Space)
        synthetic_module("gymnasium", Space=Space, spaces=spaces)
        _note("gymnasium.Space / gymnasium.spaces.Box", "cem.py and solver.py import gymnasium (not installed) for the "
              "action space's type and shape; CEMSolver.configure reads only action_space.shape")
    synthetic_module("stable_worldmodel.planning.solver", path=[os.path.join(pkg, "planning", "solver")])
    _note("stable_worldmodel.planning.solver package (empty)", "its __init__ imports every solver; cem.py is loaded "
          "from the real file with its own relative imports")
    return importlib.import_module("stable_worldmodel.planning.solver.cem")


def instantiate(node):
    """Hydra-style instantiate of a resolved config: _target_ (located by
    import), _args_, _partial_ (functools.partial), recursive."""
    if isinstance(node, dict):
        if "_target_" in node:
            target = locate(node["_target_"])
            args = [instantiate(a) for a in node.get("_args_", [])]
            kwargs = {k: instantiate(v) for k, v in node.items()
                      if k not in ("_target_", "_args_", "_partial_", "_recursive_", "_convert_")}
            if node.get("_partial_", False):
                return functools.partial(target, *args, **kwargs)
            return target(*args, **kwargs)
        return {k: instantiate(v) for k, v in node.items()}
    if isinstance(node, list):
        return [instantiate(v) for v in node]
    return node


def locate(path):
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        modname = ".".join(parts[:n])
        try:
            obj = sys.modules.get(modname) or importlib.import_module(modname)
        except ImportError:
            continue
        for attr in parts[n:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)
