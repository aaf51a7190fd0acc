namespace RobotCtl.Planning.Rollout;

/// <summary>
/// Carries an end-effector state [x, y, z, roll, pitch, yaw, gripper] forward by one 7-D delta action
/// ("ee-pose-euler-xyz"), exactly as V-JEPA 2-AC's <c>compute_new_pose</c> (facebookresearch/vjepa2
/// notebooks/utils/mpc_utils.py) does with scipy: positions add (in float32), rotations compose as
/// R_new = R(delta) * R(old) with extrinsic x-y-z Euler angles (R = Rz(yaw) Ry(pitch) Rx(roll)), and the angles are
/// read back as scipy's <c>Rotation.from_matrix(R).as_euler("xyz")</c> does (in double, then rounded to float):
/// Markley's matrix-to-quaternion conversion, then Bernardes and Viollet's quaternion-to-Euler method with scipy's
/// gimbal-lock rule: when pitch is within 1e-7 rad of +-pi/2, yaw is set to 0 and roll takes the whole rotation about
/// the aligned axes. Every angle is in [-pi, pi] (a roll past pi wraps to -pi + ...). The gripper (closedness) adds
/// the delta and is clipped to [0, 1].
/// </summary>
public static class EePoseIntegrator
{
    public const string Name = "ee-pose-euler-xyz";
    public const int Dim = 7;

    /// <summary>scipy's tolerance on the middle angle (in its shifted [0, pi] form) for gimbal lock.</summary>
    public const double GimbalTolerance = 1e-7;

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

    /// <summary>Row-major R = Rz(yaw) Ry(pitch) Rx(roll), through the quaternion as scipy's from_euler/as_matrix.</summary>
    public static void ToMatrix(double roll, double pitch, double yaw, Span<double> m)
    {
        // Extrinsic x, y, z: q = qz * qy * qx (each elementary quaternion composed on the left).
        var (sr, cr) = Math.SinCos(roll / 2);
        var (sp, cp) = Math.SinCos(pitch / 2);
        var (sy, cy) = Math.SinCos(yaw / 2);
        Span<double> q = stackalloc double[4];
        Span<double> t = stackalloc double[4];
        Compose([0, sp, 0, cp], [sr, 0, 0, cr], t);
        Compose([0, 0, sy, cy], t, q);
        double x = q[0], y = q[1], z = q[2], w = q[3];
        double x2 = x * x, y2 = y * y, z2 = z * z, w2 = w * w;
        double xy = x * y, zw = z * w, xz = x * z, yw = y * w, yz = y * z, xw = x * w;
        m[0] = x2 - y2 - z2 + w2; m[1] = 2 * (xy - zw);       m[2] = 2 * (xz + yw);
        m[3] = 2 * (xy + zw);     m[4] = -x2 + y2 - z2 + w2;  m[5] = 2 * (yz - xw);
        m[6] = 2 * (xz - yw);     m[7] = 2 * (yz + xw);       m[8] = -x2 - y2 + z2 + w2;
    }

    /// <summary>
    /// Extrinsic x-y-z Euler angles of a rotation matrix as scipy's as_euler("xyz"): pitch in [-pi/2, pi/2], roll and
    /// yaw in [-pi, pi]; within 1e-7 of gimbal lock, yaw = 0.
    /// </summary>
    public static (double Roll, double Pitch, double Yaw) ToEuler(ReadOnlySpan<double> m)
    {
        Span<double> q = stackalloc double[4];
        ToQuaternion(m, q);
        // Bernardes & Viollet for the extrinsic sequence x, y, z (i = 0, j = 1, k = 2, an even permutation: sign +1).
        double a = q[3] - q[1], b = q[0] + q[2], c = q[1] + q[3], d = q[2] - q[0];
        var middle = 2 * Math.Atan2(double.Hypot(c, d), double.Hypot(a, b));
        var halfSum = Math.Atan2(b, a);
        var halfDiff = Math.Atan2(d, c);
        double first, third;
        if (Math.Abs(middle) <= GimbalTolerance) { first = 2 * halfSum; third = 0; }
        else if (Math.Abs(middle - Math.PI) <= GimbalTolerance) { first = -2 * halfDiff; third = 0; }
        else { first = halfSum - halfDiff; third = halfSum + halfDiff; }
        return (Wrap(first), Wrap(middle - Math.PI / 2), Wrap(third));
    }

    /// <summary>Markley's method as scipy's from_matrix: the largest of the diagonal and the trace picks the formula.</summary>
    public static void ToQuaternion(ReadOnlySpan<double> m, Span<double> q)
    {
        Span<double> decision = [m[0], m[4], m[8], m[0] + m[4] + m[8]];
        var choice = 0;
        for (var i = 1; i < 4; i++) if (decision[i] > decision[choice]) choice = i;
        if (choice != 3)
        {
            int i = choice, j = (i + 1) % 3, k = (j + 1) % 3;
            q[i] = 1 - decision[3] + 2 * m[i * 3 + i];
            q[j] = m[j * 3 + i] + m[i * 3 + j];
            q[k] = m[k * 3 + i] + m[i * 3 + k];
            q[3] = m[k * 3 + j] - m[j * 3 + k];
        }
        else
        {
            q[0] = m[7] - m[5];
            q[1] = m[2] - m[6];
            q[2] = m[3] - m[1];
            q[3] = 1 + decision[3];
        }
        var norm = Math.Sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
        for (var i = 0; i < 4; i++) q[i] /= norm;
    }

    /// <summary>p * q for quaternions [x, y, z, w].</summary>
    private static void Compose(ReadOnlySpan<double> p, ReadOnlySpan<double> q, Span<double> r)
    {
        var cx = p[1] * q[2] - p[2] * q[1];
        var cy = p[2] * q[0] - p[0] * q[2];
        var cz = p[0] * q[1] - p[1] * q[0];
        r[0] = p[3] * q[0] + q[3] * p[0] + cx;
        r[1] = p[3] * q[1] + q[3] * p[1] + cy;
        r[2] = p[3] * q[2] + q[3] * p[2] + cz;
        r[3] = p[3] * q[3] - p[0] * q[0] - p[1] * q[1] - p[2] * q[2];
    }


    /// <summary>One 2 pi step into [-pi, pi], as scipy.</summary>
    private static double Wrap(double angle) => angle < -Math.PI ? angle + 2 * Math.PI : angle > Math.PI ? angle - 2 * Math.PI : angle;
}
