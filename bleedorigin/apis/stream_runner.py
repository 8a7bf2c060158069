"""Drive a :class:`BleedOriginNet` over a frame source: overlay, video, JSON, progress."""
import json
import os
import os.path as osp
import time
from typing import Iterable, Optional

import numpy as np
from mmengine.logging import print_log

from ..structures import FrameResult
from ..utils.io import atomic_output
from .bleedorigin_net import BleedOriginNet
from .video_source import VideoSink


class FrameRecordWriter:
    """Write one JSON record per frame, streaming (bounded memory).

    The file is ``{"frames": [record, ...], "summary": {...}}``; it is written
    to a temporary ``*.part`` file beside it and renamed when closed
    (:func:`bleedorigin.utils.io.atomic_output`), so a crash never leaves a
    half-written file under the final name.

    Args:
        path (str): Output JSON file; its folder is created.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._output = atomic_output(path, suffix='.part', make_dirs=True)
        self._file = open(self._output.__enter__(), 'w', encoding='utf-8')
        self._file.write('{"frames": [\n')
        self.records = 0

    def write(self, result: FrameResult) -> None:
        if self.records:
            self._file.write(',\n')
        self._file.write(json.dumps(result.to_dict()))
        self.records += 1

    def close(self, summary: Optional[dict] = None) -> None:
        if self._file is None:
            return
        self._file.write('\n],\n"summary": ')
        self._file.write(json.dumps(summary or {}, indent=1, default=_json_default))
        self._file.write('}\n')
        self._file.close()
        self._file = None
        self._output.__exit__(None, None, None)  # renames the temporary file to ``path``


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f'{type(value).__name__} is not JSON serialisable')


def run_stream(net: BleedOriginNet, frames: Iterable[Optional[np.ndarray]], fps: float = 25.0,
               out_video: Optional[str] = None, out_json: Optional[str] = None,
               show: bool = False, total: Optional[int] = None, progress: bool = True,
               source_stats=None, screenshot: Optional[str] = None) -> dict:
    """Run the pipeline over a stream, writing the annotated video and records.

    Args:
        net (BleedOriginNet): The pipeline; it is reset first.
        frames (Iterable): (H, W, 3) uint8 RGB frames or ``None`` for
            undecodable ones (e.g. a :class:`VideoSource`).
        fps (float): Stream frame rate (output video and alert flashing).
        out_video (str | None): Annotated video file (.mp4 or .avi).
        out_json (str | None): Per-frame JSON records and the summary.
        show (bool): Show the overlay in a window (needs a display).
        total (int | None): Expected frame count for the progress bar.
        progress (bool): Show a progress bar. Defaults to True.
        source_stats (SourceStats | None): Decoding statistics of the source
            (``VideoSource.stats``), read when the stream ends and merged into
            the summary.
        screenshot (str | None): PNG of the first annotated frame after the alert
            that shows the located source (the alert box is on), or of the last frame
            without one.

    Returns:
        dict: The summary (frames, onset, FPS, dropped/black/resized frames...).
    """
    from mmengine.utils import ProgressBar

    from bleedorigin.visualization import draw_bleeding_overlay

    net.reset()
    sink = None
    records = FrameRecordWriter(out_json) if out_json else None
    bar = ProgressBar(total or 0) if progress else None
    last_frame = shot = final = None
    shot_final = False
    start = time.perf_counter()
    try:
        for frame in frames:
            result = net.step(frame)
            if frame is not None and net.guard.frame_size is not None:
                # Undecodable frames repeat the last picture so the video keeps its time line.
                display = _to_stream_size(frame, net.guard.frame_size)
                last_frame = display if display is not None else last_frame
            if (out_video or show or screenshot) and last_frame is not None:
                annotated = draw_bleeding_overlay(last_frame, result, fps=fps)
                if screenshot and (shot is None or not shot_final):
                    shot = annotated
                    # after the alert, once the source is shown (an onset refiner
                    # locates it up to R frames after the alert)
                    shot_final = (result.alert_frame is not None
                                  and result.frame_index > result.alert_frame
                                  and result.source_point is not None)
                if out_video:
                    if sink is None:
                        sink = VideoSink(out_video, fps, net.guard.frame_size)
                    sink.write(annotated)
                if show:
                    show = _show(annotated)
            if records is not None:
                records.write(result)
            if bar is not None:
                bar.update()
        # a video that ends while the onset refiner is still searching: its answer over
        # the frames that arrived becomes the onset, and the source is located there
        final = net.finish()
        if final is not None:
            if screenshot and not shot_final and last_frame is not None \
                    and final.source_point is not None:
                shot = draw_bleeding_overlay(last_frame, final, fps=fps)
    finally:
        wall = time.perf_counter() - start
        summary = net.summary()
        if final is not None:  # the settled onset's source and points (the frames are as streamed)
            summary['end_of_stream'] = final.to_dict()
        summary['wall_fps'] = summary['frames'] / wall if wall > 0 else 0.0
        if source_stats is not None:
            summary['source'] = source_stats.as_dict()
        if shot is not None:
            _save_png(screenshot, shot)
            summary['screenshot'] = screenshot
        if sink is not None:
            sink.close()
            summary['out_video'] = out_video
        if records is not None:
            records.close(summary)
            summary['out_json'] = out_json
        if bar is not None:
            print()
    return summary


def _save_png(path: str, image_rgb: np.ndarray) -> None:
    import cv2

    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    cv2.imwrite(path, cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))


def _to_stream_size(frame: np.ndarray, frame_size) -> Optional[np.ndarray]:
    """A displayable copy of a frame the guard converted or resized."""
    import cv2

    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        return None
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    elif frame.ndim == 3 and frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_RGBA2RGB)
    elif frame.ndim != 3 or frame.shape[2] != 3:
        return None
    if (frame.shape[1], frame.shape[0]) != tuple(frame_size):
        frame = cv2.resize(frame, tuple(frame_size))
    return frame


def _show(image: np.ndarray) -> bool:
    """Show a frame; returns False (stop showing) without a display or on 'q'."""
    import cv2

    try:
        cv2.imshow('BleedOrigin', cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        return (cv2.waitKey(1) & 0xFF) != ord('q')
    except cv2.error as err:
        print_log(f'--show disabled: no display ({str(err).splitlines()[0]})',
                  logger='current', level=30)
        return False


def format_summary(summary: dict) -> str:
    """One-line summary for the end of a run."""
    onset = summary.get('onset_frame')
    alert = summary.get('alert_frame')
    source = summary.get('source') or {}
    parts = [
        f"{summary['frames']} frames",
        f"onset frame {onset if onset is not None else 'none'}",
        f"alert at {alert if alert is not None else 'none'}",
        f"{summary['mean_fps']:.1f} FPS (models), {summary.get('wall_fps', 0.0):.1f} FPS (wall)",
        f"dropped {summary['dropped_frames']}",
        f"black {summary['black_frames']}",
        f"resized {summary['resized_frames']}",
        f"model errors {summary['model_errors']}",
        f"refreshes {summary['refreshes']}",
    ]
    if summary.get('onset_at_stream_end'):
        parts.append('onset settled at the end of the video (the refiner search was cut short)')
    if source.get('truncated'):
        parts.append(f"truncated ({source.get('decoded_frames')} of "
                     f"{source.get('expected_frames')} frames decoded)")
    return 'summary: ' + ', '.join(parts)
