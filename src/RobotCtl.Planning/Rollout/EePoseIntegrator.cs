namespace RobotCtl.Planning.Rollout;

/// <summary>
/// Carries an end-effector state [x, y, z, roll, pitch, yaw, gripper] forward by one 7-D delta action
/// ("ee-pose-euler-xyz", V-JEPA 2-AC): positions add, rotations compose as R_new = R(delta) * R(old) with
/// extrinsic x-y-z Euler angles (R = Rz(yaw) Ry(pitch) Rx(roll)), the gripper is clipped to [0, 1].
/// </summary>
public static class EePoseIntegrator
{
    public const string Name = "ee-pose-euler-xyz";
    public const int Dim = 7;

    public static void Step(Span<float> state, ReadOnlySpan<float> action)
    {
        state[0] += action[0];
        state[1] += action[1];
        state[2] += action[2];
        Span<double> old = stackalloc double[9];
        Span<double> delta = stackalloc double[9];
        Span<double> composed = stackalloc double[9];
        ToMatrix(state[3], state[4], state[5], old);
        ToMatrix(action[3], action[4], action[5], delta);
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 3; c++)
                composed[r * 3 + c] = delta[r * 3] * old[c] + delta[r * 3 + 1] * old[3 + c] + delta[r * 3 + 2] * old[6 + c];
        var (roll, pitch, yaw) = ToEuler(composed);
        state[3] = (float)roll; state[4] = (float)pitch; state[5] = (float)yaw;
        state[6] = Math.Clamp(state[6] + action[6], 0f, 1f);
    }

    /// <summary>Row-major R = Rz(yaw) Ry(pitch) Rx(roll).</summary>
    public static void ToMatrix(double roll, double pitch, double yaw, Span<double> m)
    {
        var (sr, cr) = Math.SinCos(roll);
        var (sp, cp) = Math.SinCos(pitch);
        var (sy, cy) = Math.SinCos(yaw);
        m[0] = cy * cp; m[1] = cy * sp * sr - sy * cr; m[2] = cy * sp * cr + sy * sr;
        m[3] = sy * cp; m[4] = sy * sp * sr + cy * cr; m[5] = sy * sp * cr - cy * sr;
        m[6] = -sp;     m[7] = cp * sr;                m[8] = cp * cr;
    }

    /// <summary>Extrinsic x-y-z Euler angles of a rotation matrix; pitch in [-pi/2, pi/2]; at gimbal lock roll = 0.</summary>
    public static (double Roll, double Pitch, double Yaw) ToEuler(ReadOnlySpan<double> m)
    {
        var pitch = Math.Asin(Math.Clamp(-m[6], -1.0, 1.0));
        if (Math.Abs(m[6]) < 1 - 1e-12)
            return (Math.Atan2(m[7], m[8]), pitch, Math.Atan2(m[3], m[0]));
        return (0.0, pitch, Math.Atan2(-m[1], m[4]));
    }
}
