using Microsoft.ML.OnnxRuntime;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace RobotCtl.Inference;

/// <summary>
/// A float32 tensor in our own 64-byte aligned native memory, with an ONNX Runtime value over that memory (no copies:
/// ONNX Runtime reads inputs from it and writes bound outputs into it). Create once, reuse for every run; dispose only
/// after the last run (and binding) that uses it.
/// </summary>
public sealed unsafe class OrtTensor : IDisposable
{
    private readonly NativeBuffer _memory;
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
        _memory = new NativeBuffer((nuint)Length * sizeof(float));
        try
        {
            Value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, OrtElementType.Float, shape,
                _memory.DangerousGetHandle(), (long)Length * sizeof(float));
        }
        catch (OnnxRuntimeException e)
        {
            _memory.Dispose();
            throw OrtException.From(e);
        }
    }

    /// <summary>Allocates a zero-filled tensor of <paramref name="shape"/>.</summary>
    public static OrtTensor Create(params ReadOnlySpan<long> shape) => new(shape.ToArray());

    public IReadOnlyList<long> Shape => _shape;

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    public bool IsDisposed => _memory.IsClosed;

    /// <summary>The tensor's memory, row-major.</summary>
    public Span<float> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_memory.IsClosed, this);
            return new Span<float>((void*)_memory.DangerousGetHandle(), Length);
        }
    }

    internal OrtValue Value { get; }

    public void Dispose()
    {
        Value.Dispose();
        _memory.Dispose();
    }
}
