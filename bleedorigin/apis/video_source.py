"""Frame sources for the streaming pipeline: video file, frames folder, camera.

Every source yields RGB uint8 frames one at a time (bounded memory) and turns
decoding faults into ``None`` items or an early, recorded end instead of an
exception: a frame that cannot be decoded is yielded as ``None`` (so frame
indices keep matching the video's time line), and a video that stops
decoding before its announced frame count is recorded as truncated.
"""
import os
import os.path as osp
from typing import Iterator, List, Optional, Union

import cv2
import numpy as np
from mmengine.logging import print_log

from ..structures.stream_stats import SourceStats  # also importable from here

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')


class VideoSourceError(IOError):
    """The input cannot be opened at all (message names the input)."""


class VideoSource:
    """Iterate over the frames of a video file, a frames folder or a camera.

    Args:
        source (str | int): Path of a video file, a folder of images (sorted by
            name, e.g. a BleedOrigin-Bench ``frames/`` folder or a clip folder
            containing one), or a camera index (int or digit string).
        max_frames (int | None): Stop after this many frames. Defaults to None.
        max_consecutive_failures (int): Reads that may fail in a row before a
            video or camera counts as ended (truncated if frames were still
            announced). Defaults to 5.
        fallback_fps (float): Used when the container announces no frame
            rate (folders, some cameras). Defaults to 25.0.

    Raises:
        VideoSourceError: if the input does not exist or cannot be opened.
    """

    def __init__(self, source: Union[str, int], max_frames: Optional[int] = None,
                 max_consecutive_failures: int = 5, fallback_fps: float = 25.0) -> None:
        self.source = source
        self.max_frames = max_frames
        self.max_consecutive_failures = max(1, int(max_consecutive_failures))
        self.fps = float(fallback_fps)
        self.stats = SourceStats()
        self._capture = None
        self._files: List[str] = []
        if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
            self.stats.kind = 'camera'
            self._capture = cv2.VideoCapture(int(source))
            if not self._capture.isOpened():
                raise VideoSourceError(f'camera {source}: cannot be opened')
            self._read_fps()
        elif osp.isdir(source):
            self.stats.kind = 'folder'
            folder = source
            if not self._list_images(folder) and osp.isdir(osp.join(source, 'frames')):
                folder = osp.join(source, 'frames')
            self._files = self._list_images(folder)
            if not self._files:
                raise VideoSourceError(f'{source}: folder holds no image files '
                                       f'({", ".join(IMAGE_EXTENSIONS)})')
            self.stats.expected_frames = len(self._files)
        elif osp.isfile(source):
            self.stats.kind = 'video'
            self._capture = cv2.VideoCapture(source)
            if not self._capture.isOpened():
                raise VideoSourceError(f'{source}: cannot be opened as a video (unsupported '
                                       'codec, or the file is damaged before its first frame)')
            count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            self.stats.expected_frames = count if count > 0 else None
            self._read_fps()
        else:
            raise VideoSourceError(f'{source}: no such video file, folder or camera index')

    @staticmethod
    def _list_images(folder: str) -> List[str]:
        names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
        return [osp.join(folder, n) for n in names]

    def _read_fps(self) -> None:
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if 1.0 <= fps <= 240.0:
            self.fps = fps

    def __iter__(self) -> Iterator[Optional[np.ndarray]]:
        """Yield (H, W, 3) uint8 RGB frames, or ``None`` for an undecodable one."""
        frames = self._iter_folder() if self._files else self._iter_capture()
        try:
            for count, frame in enumerate(frames):
                if self.max_frames is not None and count >= self.max_frames:
                    break
                yield frame
        finally:
            self.release()

    def _iter_folder(self) -> Iterator[Optional[np.ndarray]]:
        self.stats.reset_counts()
        for path in self._files:
            image = cv2.imread(path, cv2.IMREAD_COLOR)
            if image is None:
                self.stats.undecodable_frames += 1
                print_log(f'{path}: cannot be decoded; frame dropped', logger='current', level=30)
                yield None
                continue
            self.stats.decoded_frames += 1
            yield cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    def _iter_capture(self) -> Iterator[Optional[np.ndarray]]:
        if self._capture is None:  # iterated again: start the file (or camera) afresh
            self._capture = cv2.VideoCapture(int(self.source) if self.stats.kind == 'camera'
                                             else self.source)
            self.stats.reset_counts()
        failures = 0
        while True:
            ok, image = self._capture.read()
            if not ok or image is None:
                failures += 1
                if failures >= self.max_consecutive_failures:
                    break
                continue
            # Failed reads followed by a good one were corrupt frames inside the
            # stream: keep the time line by yielding them as dropped.
            for _ in range(failures):
                self.stats.undecodable_frames += 1
                yield None
            failures = 0
            self.stats.decoded_frames += 1
            yield cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        expected = self.stats.expected_frames
        seen = self.stats.decoded_frames + self.stats.undecodable_frames
        if self.stats.kind == 'video' and expected is not None and seen < expected:
            self.stats.truncated = True
            print_log(f'{self.source}: video ended after {seen} of {expected} announced frames '
                      '(truncated or damaged file); stream closed early', logger='current',
                      level=30)

    def release(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class VideoSink:
    """Write RGB frames to a video file (mp4v for .mp4, MJPG otherwise).

    Args:
        path (str): Output file; its folder is created.
        fps (float): Frame rate.
        frame_size (tuple[int, int]): (W, H) of every frame; frames of another
            size are resized.

    Raises:
        VideoSourceError: if no writer can be opened for ``path``.
    """

    def __init__(self, path: str, fps: float, frame_size) -> None:
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fourcc = 'mp4v' if path.lower().endswith(('.mp4', '.m4v', '.mov')) else 'MJPG'
        self.path = path
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self._writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), float(fps),
                                       self.frame_size)
        if not self._writer.isOpened():
            raise VideoSourceError(f'{path}: cannot open a {fourcc} video writer')
        self.frames = 0

    def write(self, frame_rgb: np.ndarray) -> None:
        if (frame_rgb.shape[1], frame_rgb.shape[0]) != self.frame_size:
            frame_rgb = cv2.resize(frame_rgb, self.frame_size)
        self._writer.write(cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
