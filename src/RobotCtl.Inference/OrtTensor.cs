using RobotCtl.Inference.Native;

namespace RobotCtl.Inference;

/// <summary>
/// A float32 tensor in our own 64-byte aligned native memory, with an ONNX Runtime value over that memory (no copies:
/// ONNX Runtime reads inputs from it and writes bound outputs into it). Create once, reuse for every run.
/// </summary>
public sealed unsafe class OrtTensor : IDisposable
{
    private readonly NativeBufferHandle _memory;
    private readonly long[] _shape;

    private OrtTensor(long[] shape)
    {
        OnnxRuntime.Load();
        long length = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(shape), d, "tensor dimensions must be >= 0");
            length = checked(length * d);
        }
        if (length > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(shape), length, "tensor too large for a span");
        _shape = shape;
        Length = (int)length;
        _memory = new NativeBufferHandle((nuint)Length * sizeof(float));
        Value = CreateValue((float*)_memory.DangerousGetHandle(), Length, shape);
        Value.KeepAlive(_memory);
    }

    /// <summary>Allocates a zero-filled tensor of <paramref name="shape"/>.</summary>
    public static OrtTensor Create(params ReadOnlySpan<long> shape) => new(shape.ToArray());

    public IReadOnlyList<long> Shape => _shape;

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>The tensor's memory, row-major.</summary>
    public Span<float> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(Value.IsClosed, this);
            return new Span<float>((void*)_memory.DangerousGetHandle(), Length);
        }
    }

    internal OrtValueHandle Value { get; }

    public void Dispose()
    {
        Value.Dispose();
        _memory.Dispose();
    }

    /// <summary>An ONNX Runtime value over memory we own (the caller keeps it alive and pinned for the value's life).</summary>
    internal static OrtValueHandle CreateValue(float* data, int length, ReadOnlySpan<long> shape)
    {
        var value = new OrtValueHandle();
        value.Attach(CreateRawValue(data, length, shape));
        return value;
    }

    /// <summary>
    /// A raw value for the duration of one call (released by the caller in a finally): per-call values over the
    /// caller's spans, where a SafeHandle object would be a managed allocation on a hot path.
    /// </summary>
    internal static nint CreateRawValue(float* data, int length, ReadOnlySpan<long> shape)
    {
        nint ptr;
        fixed (long* s = shape)
        {
            NativeMethods.Check(NativeMethods.CreateTensorWithDataAsOrtValue(OnnxRuntime.CpuMemory.DangerousGetHandle(),
                data, (nuint)length * sizeof(float), s, (nuint)shape.Length, (int)TensorElementType.Float, &ptr));
        }
        return ptr;
    }
}
