"""Camera motion of a synthetic clip as per-frame homographies.

The endoscope looks at a tissue-fixed texture. Frame ``t`` shows the texture
through the homography ``H[t]`` (texture px -> frame px): a slow drift of the
view centre (sum of low-frequency sinusoids, pulled back towards the bed),
breathing (a 3-5 s oscillation), slow roll and zoom, a small perspective
tilt, and in ``camera_jitter`` clips high-frequency shake. All parameters are
drawn once and evaluated for every frame at once (vectorised).
"""
import numpy as np


def _smooth_signal(rng: np.random.Generator, t: np.ndarray, amplitude: float,
                   periods: tuple) -> np.ndarray:
    """Sum of sinusoids with random phases, periods in frames."""
    out = np.zeros_like(t, np.float64)
    for period in periods:
        p = rng.uniform(0.7, 1.3) * period
        out += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * t / p + rng.uniform(0, 2 * np.pi))
    return amplitude * out / max(len(periods), 1)


def _shake(rng: np.random.Generator, num_frames: int, amplitude: float) -> np.ndarray:
    """High-frequency shake: smoothed noise with random bursts, zero mean."""
    noise = rng.standard_normal(num_frames + 6)
    noise = np.convolve(noise, np.ones(3) / 3, 'same')[3:3 + num_frames]
    bursts = np.zeros(num_frames)
    for _ in range(max(1, num_frames // 60)):
        start = rng.integers(0, num_frames)
        bursts[start:start + rng.integers(8, 30)] = 1.0
    envelope = 0.35 + 0.65 * np.convolve(bursts, np.ones(5) / 5, 'same')
    return amplitude * noise * envelope


def camera_trajectory(rng: np.random.Generator, num_frames: int, frame_size: tuple,
                      texture_size: tuple, look_at: tuple, jitter: bool,
                      px: float) -> np.ndarray:
    """Per-frame homographies mapping texture pixels to frame pixels.

    Args:
        rng (np.random.Generator): Random source of the clip.
        num_frames (int): T.
        frame_size (tuple[int, int]): (W, H) of the frame.
        texture_size (tuple[int, int]): (Tw, Th) of the texture.
        look_at (tuple[float, float]): Texture point the view centre drifts around.
        jitter (bool): Add camera shake (``camera_jitter`` scenario).
        px (float): Pixel scale (reference px -> frame px).

    Returns:
        np.ndarray: (T, 3, 3) float64 homographies.
    """
    fw, fh = frame_size
    tw, th = texture_size
    t = np.arange(num_frames, dtype=np.float64)
    drift = rng.uniform(30, 120) * px
    cx = look_at[0] + _smooth_signal(rng, t, drift, (400, 180, 90))
    cy = look_at[1] + _smooth_signal(rng, t, drift, (400, 180, 90))
    # a slow pan in one direction over the clip, then partly back
    pan = rng.uniform(-1, 1, 2) * rng.uniform(0, 60) * px
    ramp = np.sin(np.pi * t / max(num_frames, 1) * rng.uniform(0.5, 1.5))
    cx += pan[0] * ramp
    cy += pan[1] * ramp
    breath_period = rng.uniform(90, 150)
    breath = rng.uniform(2, 7) * px * np.sin(2 * np.pi * t / breath_period + rng.uniform(0, 6.3))
    breath_dir = rng.uniform(0, 2 * np.pi)
    cx += breath * np.cos(breath_dir)
    cy += breath * np.sin(breath_dir)
    theta = rng.uniform(-0.5, 0.5) + _smooth_signal(rng, t, rng.uniform(0.03, 0.15), (300, 120))
    zoom = rng.uniform(0.9, 1.15) * (1 + _smooth_signal(rng, t, rng.uniform(0.02, 0.08),
                                                        (250, 110)))
    tilt = _smooth_signal(rng, t, rng.uniform(0, 1.5e-4) / px, (300,))
    tilt_dir = rng.uniform(0, 2 * np.pi)
    shake = np.zeros((2, num_frames))
    if jitter:
        amplitude = rng.uniform(5, 14) * px
        shake = np.stack([_shake(rng, num_frames, amplitude), _shake(rng, num_frames, amplitude)])
        theta += _shake(rng, num_frames, rng.uniform(0.005, 0.02))
    # keep the view inside the texture. The texture extent a frame needs around the
    # view centre follows the rotation and zoom of that frame; the smooth motion is
    # scaled down as a whole (never clipped frame by frame, which froze the camera
    # whenever the texture margin was small) and the shake gets its own reserve.
    cos_a, sin_a = np.abs(np.cos(theta)), np.abs(np.sin(theta))
    reserve = np.abs(shake).max(axis=1) + 0.02 * max(fw, fh)  # shake + perspective tilt
    need_x = 0.5 * (fw * cos_a + fh * sin_a) / zoom + reserve[0]
    need_y = 0.5 * (fw * sin_a + fh * cos_a) / zoom + reserve[1]
    for centre, need, size, axis in ((cx, need_x, tw, 0), (cy, need_y, th, 1)):
        low, high = need, size - need
        mid = np.where(high > low, 0.5 * (low + high), size / 2)
        room = np.maximum(0.5 * (high - low), 0.0)
        # shift the whole path towards the allowed band, then shrink it into the band
        offset = centre - mid
        shift = np.clip(np.median(offset), -room.min(), room.min()) if room.min() > 0 else 0.0
        dev = offset - shift
        excess = np.max(np.abs(dev) / np.maximum(room - abs(shift), 1e-6))
        if excess > 1:
            dev = dev / excess
        centre[:] = np.clip(mid + shift + dev + shake[axis], np.minimum(low, size / 2),
                            np.maximum(high, size / 2))

    homographies = np.zeros((num_frames, 3, 3), np.float64)
    cos, sin = np.cos(theta) * zoom, np.sin(theta) * zoom
    # frame = C_f + R S (tex - c)
    homographies[:, 0, 0] = cos
    homographies[:, 0, 1] = -sin
    homographies[:, 1, 0] = sin
    homographies[:, 1, 1] = cos
    homographies[:, 0, 2] = fw / 2 - (cos * cx - sin * cy)
    homographies[:, 1, 2] = fh / 2 - (sin * cx + cos * cy)
    homographies[:, 2, 2] = 1.0
    # perspective tilt about the frame centre (frame -> frame)
    tilt_vec = np.stack([tilt * np.cos(tilt_dir), tilt * np.sin(tilt_dir)], 1)  # (T, 2)
    shift = np.eye(3)
    shift_back = np.eye(3)
    shift[:2, 2] = [-fw / 2, -fh / 2]
    shift_back[:2, 2] = [fw / 2, fh / 2]
    centred = np.tile(np.eye(3), (num_frames, 1, 1))
    centred[:, 2, 0] = tilt_vec[:, 0]
    centred[:, 2, 1] = tilt_vec[:, 1]
    tilt_h = shift_back @ centred @ shift
    return tilt_h @ homographies


def project_points(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a homography to points.

    Args:
        homography (np.ndarray): (3, 3) or (T, 3, 3).
        points (np.ndarray): (K, 2) texture points.

    Returns:
        np.ndarray: (K, 2) or (T, K, 2) frame points.
    """
    pts = np.concatenate([points, np.ones((len(points), 1))], 1)  # (K, 3)
    out = pts @ np.swapaxes(homography, -1, -2)  # (..., K, 3)
    return out[..., :2] / out[..., 2:3]
