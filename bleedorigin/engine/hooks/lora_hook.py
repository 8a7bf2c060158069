"""LoRAHook: peft LoRA / AdaLoRA fine-tuning of the tracker (paper 4.2.2, Table 9).

Before training, adapters are injected with peft into the attention and MLP
projections (``q_proj``, ``k_proj``, ``v_proj``, ``out_proj``, ``fc1``,
``fc2``), every other weight is frozen and the adapter parameters are added
to the optimizer. Checkpoints store the adapter weights under
``lora_adapter`` and a ``state_dict`` with the adapters merged, so any
checkpoint loads into a plain tracker for inference; at the end of training
the adapters are merged into the model itself.

``load_from`` is applied before the adapters are injected (the pretrained
tracker has none); resuming a LoRA run is not supported (restart from the
pretrain checkpoint instead).
"""
from typing import Dict, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn

from bleedorigin.registry import HOOKS

DEFAULT_TARGETS = ('q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2')
ADAPTER_NAME = 'default'


def build_peft_config(method: str, rank: int, alpha: float, dropout: float,
                      target_modules: Sequence[str], total_step: Optional[int] = None,
                      adalora: Optional[dict] = None):
    """A peft ``LoraConfig`` or ``AdaLoraConfig``."""
    from peft import AdaLoraConfig, LoraConfig
    if method == 'lora':
        return LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout,
                          target_modules=list(target_modules), bias='none')
    if method == 'adalora':
        extra = dict(init_r=rank + 4, target_r=rank, tinit=0, tfinal=0, deltaT=10)
        extra.update(adalora or {})
        if total_step is None:
            raise ValueError('AdaLoRA needs total_step (the number of training iterations)')
        return AdaLoraConfig(lora_alpha=alpha, lora_dropout=dropout,
                             target_modules=list(target_modules), total_step=total_step, **extra)
    raise ValueError(f'method must be lora or adalora, got {method!r}')


def inject_adapters(model: nn.Module, config, trainable_modules: Sequence[str] = ()):
    """Inject peft adapters into ``model`` in place and freeze the rest.

    Args:
        model (nn.Module): The tracker.
        config: peft ``LoraConfig`` / ``AdaLoraConfig``.
        trainable_modules (Sequence[str]): Name prefixes kept trainable
            besides the adapters (e.g. newly added channels).

    Returns:
        The peft tuner (``LoraModel`` / ``AdaLoraModel``) wrapping ``model``.
    """
    from peft import AdaLoraConfig
    from peft.tuners.adalora import AdaLoraModel
    from peft.tuners.lora import LoraModel
    tuner_cls = AdaLoraModel if isinstance(config, AdaLoraConfig) else LoraModel
    tuner = tuner_cls(model, config, ADAPTER_NAME)
    for name, param in model.named_parameters():
        is_adapter = 'lora_' in name
        param.requires_grad = is_adapter or any(name.startswith(p) for p in trainable_modules)
    return tuner


def adapter_layers(model: nn.Module):
    """(name, peft layer) pairs of the injected adapter layers."""
    from peft.tuners.tuners_utils import BaseTunerLayer
    return [(n, m) for n, m in model.named_modules() if isinstance(m, BaseTunerLayer)]


def merged_state_dict(model: nn.Module) -> Dict[str, torch.Tensor]:
    """State dict of ``model`` with the adapters folded into the base weights.

    Keys are those of the plain model (``...q_proj.weight``), so the result
    loads into a tracker that never saw peft.
    """
    state = model.state_dict()
    layers = dict(adapter_layers(model))
    merged = {}
    for key, value in state.items():
        if '.lora_' in key or 'ranknum' in key:
            continue
        merged[key.replace('.base_layer.', '.')] = value
    for name, layer in layers.items():
        if ADAPTER_NAME not in getattr(layer, 'lora_A', {}):
            continue
        with torch.no_grad():
            delta = layer.get_delta_weight(ADAPTER_NAME)
        merged[f'{name}.weight'] = merged[f'{name}.weight'] + delta.to(merged[f'{name}.weight'])
    return merged


def adapter_state_dict(model: nn.Module) -> Dict[str, torch.Tensor]:
    """Only the adapter tensors (``lora_A``/``lora_B``/``lora_E``/``ranknum``)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if '.lora_' in k or 'ranknum' in k}


@HOOKS.register_module()
class LoRAHook(Hook):
    """Apply peft LoRA or AdaLoRA to the tracker's attention and MLP layers.

    Args:
        method (str): ``lora`` or ``adalora``. Defaults to ``lora``.
        rank (int): LoRA rank r (AdaLoRA's target rank). Defaults to 8.
        alpha (float): LoRA alpha. Defaults to 16.
        dropout (float): Adapter dropout. Defaults to 0.0.
        target_modules (Sequence[str]): Module-name suffixes that receive adapters.
        trainable_modules (Sequence[str]): Name prefixes kept trainable.
        lr (float, optional): Learning rate of the adapter parameter group
            (defaults to the optimizer's first group).
        adalora (dict, optional): Extra ``AdaLoraConfig`` fields.
        merge_after_train (bool): Merge adapters into the model after training.
    """

    priority = 'VERY_HIGH'

    def __init__(self, method: str = 'lora', rank: int = 8, alpha: float = 16.0,
                 dropout: float = 0.0, target_modules: Sequence[str] = DEFAULT_TARGETS,
                 trainable_modules: Sequence[str] = (), lr: Optional[float] = None,
                 adalora: Optional[dict] = None, merge_after_train: bool = True):
        if method not in ('lora', 'adalora'):
            raise ValueError(f'method must be lora or adalora, got {method!r}')
        self.method = method
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.target_modules = tuple(target_modules)
        self.trainable_modules = tuple(trainable_modules)
        self.lr = lr
        self.adalora = adalora
        self.merge_after_train = merge_after_train
        self.tuner = None

    @staticmethod
    def _model(runner) -> nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        config = build_peft_config(self.method, self.rank, self.alpha, self.dropout,
                                   self.target_modules, total_step=runner.max_iters,
                                   adalora=self.adalora)
        self.tuner = inject_adapters(model, config, self.trainable_modules)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = runner.optim_wrapper.optimizer
        known = {id(p) for g in optimizer.param_groups for p in g['params']}
        new = [p for p in params if id(p) not in known]
        lr = self.lr if self.lr is not None else optimizer.param_groups[0]['lr']
        if new:
            optimizer.add_param_group(dict(params=new, lr=lr, initial_lr=lr))
            for scheduler in runner.param_schedulers or []:
                if hasattr(scheduler, 'base_values'):
                    scheduler.base_values.append(lr)
        if self.method == 'adalora':
            self._wrap_zero_grad(runner)
        n_train = sum(p.numel() for p in params)
        n_all = sum(p.numel() for p in model.parameters())
        runner.logger.info(f'LoRAHook: {self.method} r={self.rank} on '
                           f'{len(adapter_layers(model))} layers; trainable {n_train} / '
                           f'{n_all} parameters')

    def _wrap_zero_grad(self, runner) -> None:
        """AdaLoRA re-allocates ranks after ``optimizer.step`` and before ``zero_grad``."""
        wrapper = runner.optim_wrapper
        original = getattr(wrapper, 'zero_grad', wrapper.optimizer.zero_grad)
        tuner = self.tuner

        def zero_grad(**kwargs):
            tuner.update_and_allocate(runner.iter)
            original(**kwargs)

        wrapper.zero_grad = zero_grad

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.tuner is None:
            return
        model = self._model(runner)
        if not adapter_layers(model):  # already merged
            return
        checkpoint['lora_adapter'] = adapter_state_dict(model)
        checkpoint['lora_config'] = dict(method=self.method, rank=self.rank, alpha=self.alpha,
                                         target_modules=list(self.target_modules))
        checkpoint['state_dict'] = merged_state_dict(model)

    def after_train(self, runner) -> None:
        if self.tuner is None or not self.merge_after_train:
            return
        self.tuner.merge_and_unload()
        runner.logger.info('LoRAHook: adapters merged into the tracker')
