from types import SimpleNamespace

import numpy as np
import torch

from bleedorigin.engine.hooks.lora_hook import (
    LoRAHook,
    adapter_layers,
    build_peft_config,
    inject_adapters,
    merged_state_dict,
)
from bleedorigin.registry import HOOKS, MODELS
from bleedorigin.utils import register_all_modules

register_all_modules()

TINY = dict(type='BleedTrackOn', encoder=dict(type='TrackEncoder', stem_channels=4,
                                              embed_dims=8),
            red_mask=dict(type='RedMask'), embed_dims=8, red_dims=2, num_heads=2, num_layers=1,
            window_radius=1, input_size=(32, 24))


def clip():
    rng = np.random.default_rng(0)
    frames = torch.from_numpy(rng.integers(0, 255, (1, 4, 3, 24, 32), dtype=np.uint8))
    track = np.array([[[10.0, 10.0]], [[11, 10]], [[12, 10]], [[13, 10]]], np.float32)
    sample = dict(query_points=track[0], target_points=track,
                  target_visible=np.ones((4, 1), bool), target_valid=np.ones((4, 1), bool),
                  is_pseudo=np.zeros(1, bool))
    return frames, [sample]


def test_lora_freezes_base_and_changes_outputs_after_training():
    torch.manual_seed(0)
    model = MODELS.build(TINY)
    frames, samples = clip()
    model.eval()
    with torch.no_grad():
        before = model(frames, samples, mode='tensor')['points'].clone()
    base = {k: v.clone() for k, v in model.state_dict().items()}
    inject_adapters(model, build_peft_config('lora', 4, 8, 0.0, ('q_proj', 'fc1', 'fc2')))
    names = [n for n, _ in adapter_layers(model)]
    assert any(n.endswith('self_attn.q_proj') for n in names)
    assert any(n.endswith('mlp.fc1') for n in names)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all('lora_' in n for n in trainable)
    model.train()
    optim = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(5):
        loss = sum(model(frames, samples, mode='loss').values())
        optim.zero_grad()
        loss.backward()
        optim.step()
    model.eval()
    with torch.no_grad():
        after = model(frames, samples, mode='tensor')['points']
    assert not torch.allclose(before, after)
    # every base weight unchanged (BN running stats aside)
    for key, value in model.state_dict().items():
        plain = key.replace('.base_layer.', '.')
        if 'lora_' in key or 'running' in key or 'num_batches' in key:
            continue
        assert torch.equal(value, base[plain]), key
    # merged weights reproduce the adapted model in a plain tracker
    plain = MODELS.build(TINY).eval()
    plain.load_state_dict(merged_state_dict(model))
    with torch.no_grad():
        merged = plain(frames, samples, mode='tensor')['points']
    assert torch.allclose(merged, after, atol=1e-4)


def test_hook_adds_adapter_group_and_saves_merged_checkpoint():
    torch.manual_seed(0)
    model = MODELS.build(TINY)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    logs = []
    runner = SimpleNamespace(model=model, optim_wrapper=SimpleNamespace(optimizer=optimizer),
                             param_schedulers=[], max_iters=10, iter=0,
                             logger=SimpleNamespace(info=logs.append))
    hook = HOOKS.build(dict(type='LoRAHook', method='adalora', rank=2, alpha=4,
                            trainable_modules=['red_embed']))
    assert isinstance(hook, LoRAHook)
    hook.before_train(runner)
    assert len(optimizer.param_groups) == 2
    assert all(p.requires_grad for n, p in model.named_parameters() if n.startswith('red_embed'))
    checkpoint = dict(state_dict=model.state_dict())
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint['lora_adapter'] and all('lora_' in k or 'ranknum' in k
                                              for k in checkpoint['lora_adapter'])
    assert not any('lora_' in k for k in checkpoint['state_dict'])
    MODELS.build(TINY).load_state_dict(checkpoint['state_dict'])
    hook.after_train(runner)
    assert not adapter_layers(model)
    assert 'LoRAHook: adalora' in logs[0]
