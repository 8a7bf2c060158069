# Table 9 row 7: + MDG, AdaLoRA (adaptive rank allocation) on attention and MLP layers.
_base_ = ['./mdg.py']
custom_hooks = [dict(type='LoRAHook', method='adalora', rank=8, alpha=16,
                     trainable_modules=['red_embed', 'mdg', 'mdg_proj', 'template_scale',
                                        'motion_prior_log_sigma'], lr=1e-3,
                     adalora=dict(init_r=12, target_r=8, tinit=50, tfinal=100, deltaT=10))]
