using RobotCtl.Planning.Rollout;

namespace RobotCtl.Planning.Tests;

public class EePoseIntegratorTests
{
    private static double[] Matrix(double roll, double pitch, double yaw)
    {
        // Built independently from elementary rotations: R = Rz(yaw) * Ry(pitch) * Rx(roll).
        double[] rx = [1, 0, 0, 0, Math.Cos(roll), -Math.Sin(roll), 0, Math.Sin(roll), Math.Cos(roll)];
        double[] ry = [Math.Cos(pitch), 0, Math.Sin(pitch), 0, 1, 0, -Math.Sin(pitch), 0, Math.Cos(pitch)];
        double[] rz = [Math.Cos(yaw), -Math.Sin(yaw), 0, Math.Sin(yaw), Math.Cos(yaw), 0, 0, 0, 1];
        return Multiply(rz, Multiply(ry, rx));
    }

    private static double[] Multiply(double[] a, double[] b)
    {
        var m = new double[9];
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 3; c++)
                for (var k = 0; k < 3; k++) m[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
        return m;
    }

    [Fact]
    public void TranslationAddsAndGripperIsClippedToUnitRange()
    {
        float[] state = [0.1f, 0.2f, 0.3f, 0, 0, 0, 0.9f];
        EePoseIntegrator.Step(state, [0.01f, -0.02f, 0.03f, 0, 0, 0, 0.5f]);
        Assert.Equal(0.11f, state[0], 1e-6f);
        Assert.Equal(0.18f, state[1], 1e-6f);
        Assert.Equal(0.33f, state[2], 1e-6f);
        Assert.Equal(1f, state[6]);
        EePoseIntegrator.Step(state, [0, 0, 0, 0, 0, 0, -1.7f]);
        Assert.Equal(0f, state[6]);
    }

    [Fact]
    public void RotationsComposeAsDeltaTimesOldInExtrinsicXyz()
    {
        (double R, double P, double Y)[] olds = [(0.3, -0.4, 1.2), (-2.5, 0.2, -0.7), (0.0, 1.0, 3.0)];
        (double R, double P, double Y)[] deltas = [(0.05, 0.0, 0.0), (0.0, -0.1, 0.2), (0.1, 0.1, -0.1)];
        foreach (var o in olds)
            foreach (var d in deltas)
            {
                float[] state = [0, 0, 0, (float)o.R, (float)o.P, (float)o.Y, 0];
                EePoseIntegrator.Step(state, [0, 0, 0, (float)d.R, (float)d.P, (float)d.Y, 0]);
                var expected = Multiply(Matrix(d.R, d.P, d.Y), Matrix((float)o.R, (float)o.P, (float)o.Y));
                var actual = Matrix(state[3], state[4], state[5]);
                for (var i = 0; i < 9; i++) Assert.Equal(expected[i], actual[i], 1e-5);
            }
    }

    [Fact]
    public void AboutZOnlyYawAddsAndRoundTripRecoversAngles()
    {
        float[] state = [0, 0, 0, 0, 0, 0.5f, 0];
        EePoseIntegrator.Step(state, [0, 0, 0, 0, 0, 0.25f, 0]);
        Assert.Equal(0.75f, state[5], 1e-6f);
        Span<double> m = stackalloc double[9];
        EePoseIntegrator.ToMatrix(0.7, -1.1, 2.9, m);
        var (r, p, y) = EePoseIntegrator.ToEuler(m);
        Assert.Equal(0.7, r, 1e-12);
        Assert.Equal(-1.1, p, 1e-12);
        Assert.Equal(2.9, y, 1e-12);
    }

    [Fact]
    public void GimbalLockStillGivesTheSameRotation()
    {
        Span<double> m = stackalloc double[9];
        EePoseIntegrator.ToMatrix(0.4, Math.PI / 2, 0.1, m);
        var (r, p, y) = EePoseIntegrator.ToEuler(m);
        var back = Matrix(r, p, y);
        for (var i = 0; i < 9; i++) Assert.Equal(m[i], back[i], 1e-9);
    }

    /// <summary>
    /// scipy's rule (as_euler, Bernardes-Viollet), which V-JEPA 2-AC's compute_new_pose inherits: at gimbal lock the THIRD
    /// angle (yaw, for extrinsic xyz) is 0 and roll takes the whole rotation about the aligned axes: roll - yaw at
    /// pitch +pi/2, roll + yaw at -pi/2. Values as scipy gives them for from_euler("xyz", a).as_euler("xyz").
    /// </summary>
    [Theory]
    [InlineData(0.3, Math.PI / 2, 0.5, -0.2, Math.PI / 2)]
    [InlineData(0.3, -Math.PI / 2, 0.5, 0.8, -Math.PI / 2)]
    [InlineData(0.3, 1.5707963705062866, 0.5, -0.2, 1.5707962830835066)] // float32(pi/2): within 1e-7 of the lock
    public void At_gimbal_lock_yaw_is_zero_and_roll_takes_the_rotation_as_scipy(double roll, double pitch, double yaw,
        double expectedRoll, double expectedPitch)
    {
        Span<double> m = stackalloc double[9];
        EePoseIntegrator.ToMatrix(roll, pitch, yaw, m);
        var (r, p, y) = EePoseIntegrator.ToEuler(m);
        Assert.Equal(0.0, y);
        Assert.Equal(expectedRoll, r, 1e-7);
        Assert.Equal(expectedPitch, p, 1e-7);
    }

    [Fact]
    public void Just_outside_scipys_tolerance_the_angles_are_kept()
    {
        Span<double> m = stackalloc double[9];
        EePoseIntegrator.ToMatrix(0.3, Math.PI / 2 - 2e-7, 0.5, m);
        var (r, p, y) = EePoseIntegrator.ToEuler(m);
        Assert.Equal(0.3, r, 1e-6);
        Assert.Equal(Math.PI / 2 - 2e-7, p, 1e-9);
        Assert.Equal(0.5, y, 1e-6);
    }

    [Fact]
    public void A_roll_past_pi_wraps_to_minus_pi()
    {
        float[] state = [0.4f, 0, 0.3f, 3.0f, 0.2f, -0.4f, 0.5f];
        EePoseIntegrator.Step(state, [0, 0, 0, 0.35f, 0, 0, 0]);
        // Rx(0.35) composed on the left of Rz Ry Rx(3.0) is not a plain roll change (pitch and yaw stay put only when
        // both are zero): compare the rotation, and the roll's wrap on an axis-aligned case.
        var expected = Multiply(Matrix(0.35f, 0, 0), Matrix(3.0f, 0.2f, -0.4f));
        var actual = Matrix(state[3], state[4], state[5]);
        for (var i = 0; i < 9; i++) Assert.Equal(expected[i], actual[i], 1e-6);
        Assert.InRange(state[3], -Math.PI, Math.PI);

        float[] plain = [0, 0, 0, 3.0f, 0, 0, 0];
        EePoseIntegrator.Step(plain, [0, 0, 0, 0.35f, 0, 0, 0]);
        Assert.Equal((float)(3.0f + 0.35f - 2 * Math.PI), plain[3], 1e-6f);
        Assert.Equal(0f, plain[4], 1e-6f);
        Assert.Equal(0f, plain[5], 1e-6f);
    }
}
