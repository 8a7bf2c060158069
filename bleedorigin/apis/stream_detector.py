"""Streaming onset + source predictor around a stateless detector model.

The model (``BleedOriginDetector``) holds the networks; :class:`StreamDetector` holds
the stream of one video (an :class:`~bleedorigin.models.utils.OnsetStreamState`: clean-view
memory, the newest window of frame features, eq. 2's onset so far, the frames kept for
the source reference), calls the model's one preprocessing step per frame and the
shared online update :func:`~bleedorigin.models.utils.onset_stream_update`. Several
predictors may share one model (one per video). The same split as co-tracker's online
predictor and Track-On's predictor: model stateless, predictor stateful.
"""
from typing import Optional, Tuple

import numpy as np
import torch

from .protocols import (
    DETECTOR_MEMBERS,
    ONSET_STEP_MEMBERS,
    missing_members,
)


class StreamDetector:
    """Online onset detector (eq. 2) and source locator for one stream at a time.

    Implements :class:`~bleedorigin.apis.protocols.StreamingDetector`.

    Args:
        model: A stateless detector with the online step
            (:class:`~bleedorigin.apis.protocols.OnsetStepModel`, e.g.
            ``BleedOriginDetector``), in eval mode.
    """

    def __init__(self, model) -> None:
        missing = missing_members(model, ONSET_STEP_MEMBERS)
        if missing:
            raise TypeError(f'StreamDetector: {type(model).__name__} has no online step '
                            f'({", ".join(missing)} missing)')
        self.model = model
        self.state = None  # OnsetStreamState of the current video
        self.reset()

    # the attributes the pipeline and the tools read from a detector
    @property
    def window_size(self) -> int:
        return self.model.window_size

    @property
    def reference_offset(self) -> int:
        return self.model.reference_offset

    def reset(self) -> None:
        """Forget every frame seen (start of a new video)."""
        # imported here: `import bleedorigin.apis` must not pull in every model module
        from bleedorigin.models.utils.onset_stream import OnsetStreamState
        self.state = OnsetStreamState.for_model(self.model)

    @torch.no_grad()
    def step(self, frame: np.ndarray) -> dict:
        """Consume one (H, W, 3) uint8 RGB frame.

        Returns:
            dict: ``frame_index``, ``onset_frame`` (None until a window fired),
            ``confidence`` (S_conf of the newest window) and ``state_onset_frame``;
            see :func:`~bleedorigin.models.utils.onset_stream_update`.
        """
        from bleedorigin.models.utils.onset_stream import onset_stream_step
        return onset_stream_step(self.model, self.state, frame)

    @torch.no_grad()
    def locate_source(self, frame: np.ndarray, reference: Optional[np.ndarray] = None
                      ) -> Tuple[float, float, float]:
        """Bleeding source in ``frame`` (its pixels).

        Args:
            frame (np.ndarray): (H, W, 3) uint8 RGB, normally the onset frame.
            reference (np.ndarray, optional): Earlier (pre-onset) frame, same size.
                Defaults to the streamed frame ``reference_offset`` frames before the
                detected onset (or before the newest frame; the nearest one buffered).

        Returns:
            tuple: (x, y, score).
        """
        small = None
        if reference is None:
            from bleedorigin.models.utils.onset_stream import pick_reference, reference_anchor
            state = self.state
            small = pick_reference(state.frames, reference_anchor(state),
                                   self.model.reference_offset)
        return self.model.locate(frame, reference, small)

    # names of the StreamingDetector protocol (what BleedOriginNet and the tools call)
    def reset_stream(self) -> None:
        """Same as :meth:`reset`."""
        self.reset()

    def stream_step(self, frame: np.ndarray) -> dict:
        """Same as :meth:`step`."""
        return self.step(frame)

    def __repr__(self) -> str:
        return f'StreamDetector({type(self.model).__name__}, frames_seen={self.state.index + 1})'


def as_stream_detector(detector, origin: str = 'detector'):
    """The predictor the pipeline drives for ``detector``.

    A :class:`StreamDetector` is returned as it is; a stateless model with the online
    step is wrapped in one; an object that keeps its own stream (``reset_stream``,
    ``stream_step``, ``locate_source``: the YOLO baseline) is used as it is.

    Raises:
        TypeError: naming ``origin`` and the missing methods.
    """
    if isinstance(detector, StreamDetector):
        return detector
    if not missing_members(detector, ONSET_STEP_MEMBERS):
        return StreamDetector(detector)
    missing = missing_members(detector, DETECTOR_MEMBERS)
    if missing:
        raise TypeError(f'{origin}: {type(detector).__name__} is neither a stateless detector '
                        f'with an online step ({", ".join(ONSET_STEP_MEMBERS)}) nor a '
                        f'streaming detector (missing {", ".join(missing)})')
    return detector
