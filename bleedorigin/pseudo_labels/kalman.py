"""Stage 3 of the pseudo-label pipeline (paper eq. 7): Kalman + RTS smoothing.

A constant-velocity filterpy :class:`~filterpy.kalman.KalmanFilter` runs over
the tracker's trajectory; the matched end point P*_{t+30} replaces the last
measurement with a much smaller noise, and the Rauch-Tung-Striebel smoother
carries that correction back over the whole trajectory.
"""
import numpy as np
from filterpy.kalman import KalmanFilter


def smooth_trajectory(trajectory: np.ndarray, end_point=None, track_noise: float = 4.0,
                      end_noise: float = 1.0, process_noise: float = 1.0) -> np.ndarray:
    """Kalman-smooth one trajectory with an optional reliable final measurement.

    Args:
        trajectory (np.ndarray): (T, 2) tracked positions P_t .. P_{t+T-1}, px.
        end_point (array-like, optional): (2,) matched end point z_{t+T-1};
            replaces the last tracked position as the final measurement.
        track_noise (float): Std (px) of a tracked-position measurement.
        end_noise (float): Std (px) of the matched end point.
        process_noise (float): Std (px / frame^2) of the acceleration noise.

    Returns:
        np.ndarray: (T, 2) smoothed positions T*.
    """
    traj = np.asarray(trajectory, np.float64)
    if traj.ndim != 2 or traj.shape[1] != 2 or len(traj) < 2:
        raise ValueError(f'trajectory must be (T >= 2, 2), got {traj.shape}')
    if not np.isfinite(traj).all():
        raise ValueError('trajectory must be finite')
    kf = KalmanFilter(dim_x=4, dim_z=2)
    kf.F = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]], np.float64)
    kf.H = np.array([[1, 0, 0, 0], [0, 1, 0, 0]], np.float64)
    q = process_noise ** 2
    g = np.array([[0.5], [1.0]])
    block = g @ g.T * q  # discrete white-noise acceleration, per axis
    kf.Q = np.zeros((4, 4))
    kf.Q[np.ix_([0, 2], [0, 2])] = block
    kf.Q[np.ix_([1, 3], [1, 3])] = block
    kf.x = np.array([traj[0, 0], traj[0, 1], 0.0, 0.0])
    kf.P = np.diag([end_noise ** 2, end_noise ** 2, 25.0, 25.0])
    zs = traj.copy()
    rs = [np.eye(2) * track_noise ** 2 for _ in range(len(traj))]
    rs[0] = np.eye(2) * end_noise ** 2  # the start point is the match in I_t itself
    if end_point is not None:
        zs[-1] = np.asarray(end_point, np.float64)
        rs[-1] = np.eye(2) * end_noise ** 2
    means, covs, _, _ = kf.batch_filter(zs, Rs=rs)
    smoothed, _, _, _ = kf.rts_smoother(means, covs)
    return smoothed[:, :2].astype(np.float32)
