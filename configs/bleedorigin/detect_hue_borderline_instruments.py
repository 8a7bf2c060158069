# The borderline hue stage plus instrument negatives of the default look (issue 11,
# twenty-sixth step, docs/detect.md): detect_hue_borderline.py and the train split of an
# `instrument_negatives` render (reflections, flushes and an instrument round every 50
# frames, no bleeding; the distractor of both negative test clips the hue-stage runs alarm
# on, and of the held-out negative every hue-stage checkpoint alarms on).
#
#   python tools/dataset_converters/make_synthetic.py data/instrument_negatives \
#       --preset instrument_negatives --seed 13
#   bash tools/reproduce.sh --from-zoo detect --work-root WR --stages detect_hue_borderline_instruments
#
# Measured from three chains' detect_hardpos checkpoints (seeds 0, 1, 2, two threads):
# docs/detect.md, twenty-sixth step. Not the default.
_base_ = ['./detect_hue_borderline.py']

instrument_negatives_root = 'data/instrument_negatives'
instrument_negatives_per_clip = 2  # segments per clip and epoch (36 train clips: 72 segments)
synthetic_data = _base_.synthetic_data + [
    dict(data_root=instrument_negatives_root, preset='instrument_negatives', seed=13)]

# the borderline set's entry (the default onsets as the hue stage trains them) on this root
_borderline = _base_.train_dataloader.dataset.datasets[-1]
train_dataloader = dict(dataset=dict(datasets=_base_.train_dataloader.dataset.datasets + [
    dict(_borderline, data_root=instrument_negatives_root,
         samples_per_clip=instrument_negatives_per_clip)]))
