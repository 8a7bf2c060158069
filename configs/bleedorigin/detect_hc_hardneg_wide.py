# Colour-robust chain, mined negatives round 1 (issue 11, twentieth step, docs/detect.md):
# detect_hardneg_wide.py (the negative streams' windows where the starting checkpoint is
# confident) with detect_hue_s1.py's colour augmentation, started from and mined by
# detect_hue_s1.py's checkpoint instead of stage 1's. See detect_hue_s1.py for the chain.
#
#   python tools/model_converters/reproduce.py --from-zoo detect --seed 2 \
#       --work-root work_dirs/chain_hc --stages detect_hue_s1 detect_hc_hardneg_wide
#
# (reproduce.py mines the streams with detect_hue_s1's checkpoint and points the datasets
# at the mined files; `load_from` below names its work dir for a hand-run.)
_base_ = ['./detect_hardneg_wide.py']

load_from = 'work_dirs/detect_hue_s1'
hue_jitter = 20.0  # degrees, either way (detect_hue_s1.py's)


def _jitter(pipeline, **extra):
    return [dict(t, rounding=True, **extra) if t['type'] == 'SequenceColorJitter' else t
            for t in pipeline]


train_dataloader = dict(dataset=dict(datasets=[
    dict(d, red_colour=True, pipeline=_jitter(d.pipeline, hue=hue_jitter))
    if d.type == 'BleedOnsetDataset' else dict(d, pipeline=_jitter(d.pipeline))
    for d in _base_.train_dataloader.dataset.datasets]))

default_hooks = dict(checkpoint=dict(save_best=None))
