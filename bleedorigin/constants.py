"""Constants of the paper, stated once (BleedOrigin-Net, docs/DESIGN.md).

Configs keep their own literal values (a config is read on its own); code
imports these names instead of restating the numbers.
"""

#: Frame tolerances k of the onset accuracy Acc_{+-k} (Table 3, section 4.2).
ONSET_TOLERANCES = (0, 1, 2, 4, 8)

#: Pixel thresholds d of Err<=d for source localisation and tracking (Tables 4, 6).
POINT_THRESHOLDS = (10, 25, 50, 75, 100)

#: N, the sliding window of the onset detector in frames (section 3.2, eq. 2).
WINDOW_SIZE = 60

#: Checkpoint selection of the detector (``DetectSelectMetric``): frames of onset error a
#: run pays when every validation source is farther than ``POINT_THRESHOLDS[0]`` px from
#: the truth (10 % of them off cost one frame). Not in the paper: it keeps the source
#: branch from being chosen half-trained when the onset score ties (docs/detect.md,
#: issue 11, fourteenth step).
SELECT_SOURCE_WEIGHT = 10.0

#: A window's onset counts only when its S_conf exceeds this (eq. 2, Algorithm 1).
ONSET_CONF_THRESHOLD = 0.5

#: The state head's P(bleeding) of frame t at which I_{t-1} stays out of the clean-view
#: memory though eq. 1 calls it clean (``BleedOriginDetector.memory_state_veto``). Not in
#: the paper; chosen on the validation splits (docs/detect.md, issue 11, 27th step).
MEMORY_STATE_VETO = 0.99

#: Consecutive confident windows before an onset is announced (the alarm gate,
#: ``WindowRun``). 1 is eq. 2 as printed; configs set their own (docs/detect.md).
ONSET_CONFIRM_WINDOWS = 1

#: Refresh interval of the tracker's queries in tracked frames (default: N).
REFRESH_INTERVAL = WINDOW_SIZE

#: alpha and gamma of eq. 1: MDCFM keeps I_{t-1} as a clean view only when its
#: RGB-HSV and flow confidences are both below these (section 3.2).
MDCFM_RGBHSV_THRESHOLD = 0.5
MDCFM_FLOW_THRESHOLD = 0.5

#: lambda_1, lambda_2 and delta of eq. 5, the source localisation loss (section 3.3).
SOURCE_LOSS_HEATMAP_WEIGHT = 0.5
SOURCE_LOSS_PSEUDO_WEIGHT = 0.5
SOURCE_LOSS_POINT_WEIGHT = 1.0

#: alpha_1 (ground truth) and alpha_2 (pseudo labels) of eq. 8, the tracking loss.
TRACK_LOSS_GT_WEIGHT = 0.6
TRACK_LOSS_PSEUDO_WEIGHT = 0.4

#: Frame size (W, H) of the efficiency comparison (Table 10).
EFFICIENCY_SIZE = (512, 384)
