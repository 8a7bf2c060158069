# detect_hn.py with an exponential moving average of the weights (mmengine EMAHook; issue 11,
# fourth step, docs/detect.md). The validation and test splits disagree on which iteration
# is best (the default run's validation select_err went 0.80 -> 0.57 -> 4.18 over its last
# three validations; detect_hn.py's best validation, iteration 1,200, was its worst test
# checkpoint): the averaged weights vary less from one iteration to the next. Validation,
# the saved checkpoints' `state_dict` and so tools/test.py and the zoo use the averaged
# weights (the raw ones are kept under `ema_state_dict` for resuming).
_base_ = './detect_hn.py'

# averaging horizon about 1 / momentum = 500 iterations (a fifth of the schedule)
ema_momentum = 0.002
custom_hooks = [
    dict(type='NaNGuardHook'),
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=ema_momentum,
         update_buffers=True, priority=49),
]
