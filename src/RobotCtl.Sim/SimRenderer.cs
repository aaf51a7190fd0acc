using RobotCtl.Core.Vision;

namespace RobotCtl.Sim;

/// <summary>
/// Draws the workcell into a <see cref="Frame"/> (BGR): a textured table (a colour gradient and grid lines, so
/// position is visible), walls, the block (a box, its top marked towards its local +x), the effector (a disk with
/// two fingers whose gap shows the gripper) and its shadow. Flat shading, no anti-aliasing, double-precision
/// scanline fill: the same scene and state give the same bytes. The static part (table, walls) is drawn once per
/// scene and copied, so a render allocates nothing once it has run for a scene and frame size.
/// Not thread-safe: one renderer per rendering thread.
/// </summary>
/// <remarks>
/// Height cues: the shadow falls along (+x, -y) by <see cref="ShadowSlope"/> x height, and in the top-down view
/// (which has no perspective) the effector is drawn larger the higher it is: radius x (1 + (z - ZMin) / (ZMax - ZMin)).
/// </remarks>
public sealed class SimRenderer
{
    /// <summary>Shadow offset on the table per metre of effector height, along +x and -y.</summary>
    public const double ShadowSlope = 0.35;

    private const int DiskSegments = 32;

    private SimSceneOptions? _cachedScene;
    private SimCameraModel? _model;
    private byte[] _background = [];

    public SimRenderer(SimRenderOptions? options = null)
    {
        Options = options ?? SimRenderOptions.Default;
        Options.Validate();
    }

    public SimRenderOptions Options { get; }

    /// <summary>The camera geometry (pose, intrinsics) for this view of <paramref name="scene"/>.</summary>
    public SimCameraModel CameraModel(SimSceneOptions scene)
    {
        EnsureScene(scene);
        return _model!;
    }

    /// <summary>Renders the workcell's current state (read atomically). Capture time and sequence are left to the caller.</summary>
    public void Render(SimWorkcell workcell, Frame destination)
    {
        ArgumentNullException.ThrowIfNull(workcell);
        workcell.Read(out var scene, out var state, out _);
        Render(scene, state, destination);
    }

    /// <summary>Renders <paramref name="state"/> of <paramref name="scene"/>, resizing the destination to the view's size if needed.</summary>
    public void Render(SimSceneOptions scene, in SimSnapshot state, Frame destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        EnsureScene(scene);
        var model = _model!;
        destination.EnsureSize(model.Width, model.Height);
        _background.AsSpan().CopyTo(destination.Pixels);
        var canvas = new Canvas(destination.Pixels, model.Width, model.Height, model);
        var o = Options;

        var r = scene.EffectorRadius;
        var drawnRadius = model.IsOrthographic ? r * (1 + (state.EeZ - scene.ZMin) / (scene.ZMax - scene.ZMin)) : r;
        var lift = state.EeZ - scene.ZMin;
        canvas.FillDisk(state.EeX + ShadowSlope * lift, state.EeY - ShadowSlope * lift, 0, r, o.ShadowColor);

        // Painter's order: whichever is farther from the camera first.
        model.Project(state.BlockX, state.BlockY, scene.BlockHalf, out _, out _, out var blockDepth);
        model.Project(state.EeX, state.EeY, state.EeZ, out _, out _, out var effectorDepth);
        if (blockDepth >= effectorDepth)
        {
            DrawBlock(canvas, scene, state);
            DrawEffector(canvas, scene, state, drawnRadius);
        }
        else
        {
            DrawEffector(canvas, scene, state, drawnRadius);
            DrawBlock(canvas, scene, state);
        }
    }

    private void DrawBlock(Canvas canvas, SimSceneOptions scene, in SimSnapshot s)
    {
        var a = scene.BlockHalf;
        canvas.FillBox(s.BlockX, s.BlockY, s.BlockYaw, a, a, 0, scene.BlockSize, Options.BlockColor);
        // A mark near the +x face shows the yaw beyond the square's quarter-turn symmetry.
        var (sin, cos) = Math.SinCos(s.BlockYaw);
        canvas.FillRectangle(s.BlockX + cos * 0.6 * a, s.BlockY + sin * 0.6 * a, s.BlockYaw, 0.25 * a, 0.25 * a, scene.BlockSize, Options.BlockMarkColor);
    }

    private void DrawEffector(Canvas canvas, SimSceneOptions scene, in SimSnapshot s, double radius)
    {
        canvas.FillDisk(s.EeX, s.EeY, s.EeZ, radius, Options.EffectorColor);
        // Two fingers along the effector's local x, apart along its local y: open 0.62 R, closed touching.
        var (sin, cos) = Math.SinCos(s.EeYaw);
        var offset = radius * (0.12 + 0.5 * (1 - s.Gripper));
        for (var side = -1; side <= 1; side += 2)
            canvas.FillRectangle(s.EeX - sin * offset * side, s.EeY + cos * offset * side, s.EeYaw, 0.75 * radius, 0.12 * radius, s.EeZ, Options.FingerColor);
        // Seen from the side, a rod up to above the workspace shows where the effector hangs from.
        if (!canvas.IsTopDown)
            canvas.FillBox(s.EeX, s.EeY, s.EeYaw, 0.2 * radius, 0.2 * radius, s.EeZ, scene.ZMax + 0.05, Shade(Options.EffectorColor, 0.7));
    }

    private void EnsureScene(SimSceneOptions scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        if (ReferenceEquals(scene, _cachedScene)) return;
        if (_cachedScene is not null && _model is not null && SameBounds(scene, _cachedScene))
        {
            _cachedScene = scene;
            return;
        }
        var model = SimCameraModel.Create(scene, Options);
        var pixels = new byte[model.Width * model.Height * 3];
        DrawBackground(scene, model, pixels);
        (_cachedScene, _model, _background) = (scene, model, pixels);
    }

    private static bool SameBounds(SimSceneOptions a, SimSceneOptions b) =>
        a.XMin == b.XMin && a.XMax == b.XMax && a.YMin == b.YMin && a.YMax == b.YMax && a.ZMin == b.ZMin && a.ZMax == b.ZMax;

    /// <summary>Table (texture per pixel, by casting each pixel's ray onto z = 0), floor, then the walls far to near.</summary>
    private void DrawBackground(SimSceneOptions scene, SimCameraModel model, byte[] pixels)
    {
        var o = Options;
        double spanX = scene.XMax - scene.XMin, spanY = scene.YMax - scene.YMin;
        for (var j = 0; j < model.Height; j++)
        {
            for (var i = 0; i < model.Width; i++)
            {
                var color = o.FloorColor;
                if (model.Unproject(i + 0.5, j + 0.5, 0, out var x, out var y) &&
                    x >= scene.XMin && x <= scene.XMax && y >= scene.YMin && y <= scene.YMax)
                {
                    // Gradient: redder towards +x, bluer towards +y; grid lines darker.
                    double tx = (x - scene.XMin) / spanX - 0.5, ty = (y - scene.YMin) / spanY - 0.5;
                    var t = o.TableColor;
                    color = new SimColor(Clamp(t.R + 60 * tx), t.G, Clamp(t.B + 60 * ty));
                    if (OnGrid(model, i, j, x, y, o.GridSpacing)) color = Shade(color, 0.85);
                }
                var p = (j * model.Width + i) * 3;
                pixels[p] = color.B; pixels[p + 1] = color.G; pixels[p + 2] = color.R;
            }
        }
        var canvas = new Canvas(pixels, model.Width, model.Height, model);
        double t0 = o.WallThickness, hw = o.WallHeight;
        if (t0 <= 0) return;
        Span<(double Cx, double Cy, double Hx, double Hy, double Depth)> walls =
        [
            (scene.XMin - t0 / 2, (scene.YMin + scene.YMax) / 2, t0 / 2, spanY / 2 + t0, 0),
            (scene.XMax + t0 / 2, (scene.YMin + scene.YMax) / 2, t0 / 2, spanY / 2 + t0, 0),
            ((scene.XMin + scene.XMax) / 2, scene.YMin - t0 / 2, spanX / 2, t0 / 2, 0),
            ((scene.XMin + scene.XMax) / 2, scene.YMax + t0 / 2, spanX / 2, t0 / 2, 0),
        ];
        for (var k = 0; k < walls.Length; k++)
        {
            model.Project(walls[k].Cx, walls[k].Cy, hw / 2, out _, out _, out var depth);
            walls[k].Depth = depth;
        }
        walls.Sort((p, q) => q.Depth.CompareTo(p.Depth));
        foreach (var w in walls) canvas.FillBox(w.Cx, w.Cy, 0, w.Hx, w.Hy, 0, hw, o.WallColor);
    }

    /// <summary>True when a grid line passes between this pixel's centre and its right or lower neighbour's: one-pixel lines at any view.</summary>
    private static bool OnGrid(SimCameraModel model, int i, int j, double x, double y, double spacing)
    {
        if (spacing <= 0) return false;
        double cellX = Math.Floor(x / spacing), cellY = Math.Floor(y / spacing);
        if (model.Unproject(i + 1.5, j + 0.5, 0, out var rx, out var ry) &&
            (Math.Floor(rx / spacing) != cellX || Math.Floor(ry / spacing) != cellY)) return true;
        return model.Unproject(i + 0.5, j + 1.5, 0, out var dx, out var dy) &&
               (Math.Floor(dx / spacing) != cellX || Math.Floor(dy / spacing) != cellY);
    }

    private static byte Clamp(double v) => (byte)Math.Clamp(Math.Round(v), 0, 255);

    internal static SimColor Shade(SimColor c, double factor) => new(Clamp(c.R * factor), Clamp(c.G * factor), Clamp(c.B * factor));

    /// <summary>Projects world polygons and fills them into a BGR buffer (convex polygons, pixel centres, half-open spans).</summary>
    private readonly ref struct Canvas(byte[] pixels, int width, int height, SimCameraModel model)
    {
        private readonly byte[] _pixels = pixels;
        private readonly int _width = width, _height = height;
        private readonly SimCameraModel _model = model;

        public bool IsTopDown => _model.IsOrthographic;

        public void FillDisk(double x, double y, double z, double radius, SimColor color)
        {
            Span<double> u = stackalloc double[DiskSegments];
            Span<double> v = stackalloc double[DiskSegments];
            for (var k = 0; k < DiskSegments; k++)
            {
                var (sin, cos) = Math.SinCos(2 * Math.PI * k / DiskSegments);
                if (!_model.Project(x + radius * cos, y + radius * sin, z, out u[k], out v[k], out _)) return;
            }
            FillConvex(u, v, color);
        }

        /// <summary>A flat rectangle at height z: centre, yaw, half sizes along its local x and y.</summary>
        public void FillRectangle(double x, double y, double yaw, double hx, double hy, double z, SimColor color)
        {
            Span<double> u = stackalloc double[4];
            Span<double> v = stackalloc double[4];
            var (sin, cos) = Math.SinCos(yaw);
            for (var k = 0; k < 4; k++)
            {
                double lx = k is 0 or 3 ? -hx : hx, ly = k < 2 ? -hy : hy;
                if (!_model.Project(x + cos * lx - sin * ly, y + sin * lx + cos * ly, z, out u[k], out v[k], out _)) return;
            }
            FillConvex(u, v, color);
        }

        /// <summary>A box standing on z0 up to z1: the side faces that face the camera (shaded), then the top.</summary>
        public void FillBox(double x, double y, double yaw, double hx, double hy, double z0, double z1, SimColor color)
        {
            var (sin, cos) = Math.SinCos(yaw);
            Span<double> u = stackalloc double[4];
            Span<double> v = stackalloc double[4];
            for (var face = 0; face < 4; face++)
            {
                // Face normals in the box frame: +x, +y, -x, -y.
                double nlx = face switch { 0 => 1, 2 => -1, _ => 0 }, nly = face switch { 1 => 1, 3 => -1, _ => 0 };
                double nx = cos * nlx - sin * nly, ny = sin * nlx + cos * nly;
                double fx = x + nx * (nlx != 0 ? hx : hy), fy = y + ny * (nlx != 0 ? hx : hy);
                if (!FacesCamera(nx, ny, fx, fy, (z0 + z1) / 2)) continue;
                // Face corners: along the face's tangent (-ny, nx), bottom and top.
                var half = nlx != 0 ? hy : hx;
                double tx = -ny * half, ty = nx * half;
                if (!_model.Project(fx - tx, fy - ty, z0, out u[0], out v[0], out _) ||
                    !_model.Project(fx + tx, fy + ty, z0, out u[1], out v[1], out _) ||
                    !_model.Project(fx + tx, fy + ty, z1, out u[2], out v[2], out _) ||
                    !_model.Project(fx - tx, fy - ty, z1, out u[3], out v[3], out _)) continue;
                FillConvex(u, v, Shade(color, 0.55 + 0.2 * Math.Abs(nx)));
            }
            FillRectangle(x, y, yaw, hx, hy, z1, color);
        }

        private bool FacesCamera(double nx, double ny, double px, double py, double pz)
        {
            if (_model.IsOrthographic)
                return -(nx * _model.Forward.X + ny * _model.Forward.Y) > 1e-9;
            var e = _model.Eye;
            return nx * (e.X - px) + ny * (e.Y - py) > 1e-9;
        }

        private void FillConvex(ReadOnlySpan<double> u, ReadOnlySpan<double> v, SimColor color)
        {
            var n = u.Length;
            double vMin = double.PositiveInfinity, vMax = double.NegativeInfinity;
            for (var k = 0; k < n; k++)
            {
                vMin = Math.Min(vMin, v[k]);
                vMax = Math.Max(vMax, v[k]);
            }
            var rowFirst = Math.Max(0, (int)Math.Ceiling(vMin - 0.5));
            var rowLast = Math.Min(_height - 1, (int)Math.Ceiling(vMax - 0.5) - 1);
            for (var row = rowFirst; row <= rowLast; row++)
            {
                var yc = row + 0.5;
                double left = double.PositiveInfinity, right = double.NegativeInfinity;
                for (var k = 0; k < n; k++)
                {
                    int m = k + 1 == n ? 0 : k + 1;
                    double v0 = v[k], v1 = v[m];
                    if ((v0 <= yc && v1 > yc) || (v1 <= yc && v0 > yc))
                    {
                        var xc = u[k] + (yc - v0) * (u[m] - u[k]) / (v1 - v0);
                        left = Math.Min(left, xc);
                        right = Math.Max(right, xc);
                    }
                }
                if (!(left <= right)) continue;
                var first = Math.Max(0, (int)Math.Ceiling(left - 0.5));
                var last = Math.Min(_width - 1, (int)Math.Ceiling(right - 0.5) - 1);
                var p = (row * _width + first) * 3;
                for (var i = first; i <= last; i++, p += 3)
                {
                    _pixels[p] = color.B; _pixels[p + 1] = color.G; _pixels[p + 2] = color.R;
                }
            }
        }
    }
}
