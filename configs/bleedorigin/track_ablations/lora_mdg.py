# Table 9 row 6: + MDG, LoRA on attention and MLP layers (new MDG / red
# embedding layers stay trainable).
_base_ = ['./mdg.py']
custom_hooks = [dict(type='LoRAHook', method='lora', rank=8, alpha=16,
                     trainable_modules=['red_embed', 'mdg', 'mdg_proj', 'template_scale',
                                        'motion_prior_log_sigma'], lr=1e-3)]
