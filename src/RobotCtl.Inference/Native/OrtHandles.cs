using System.Runtime.InteropServices;

namespace RobotCtl.Inference.Native;

/// <summary>
/// Base of every SafeHandle over an ONNX Runtime object. A handle may keep other handles alive (an IoBinding its
/// session, a tensor value its memory) by holding a reference on them until it is released.
/// </summary>
internal abstract class OrtHandle : SafeHandle
{
    private SafeHandle[] _dependencies = [];

    protected OrtHandle() : base(0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    /// <summary>Takes ownership of a pointer returned by ONNX Runtime.</summary>
    internal void Attach(nint pointer) => SetHandle(pointer);

    /// <summary>Keeps <paramref name="dependencies"/> alive until this handle is released (adds to earlier ones).</summary>
    internal void KeepAlive(params SafeHandle[] dependencies)
    {
        foreach (var d in dependencies)
        {
            bool added = false;
            d.DangerousAddRef(ref added);
        }
        _dependencies = [.. _dependencies, .. dependencies];
    }

    protected sealed override bool ReleaseHandle()
    {
        Release(handle);
        foreach (var d in _dependencies) d.DangerousRelease();
        return true;
    }

    protected abstract void Release(nint pointer);
}

internal sealed unsafe class OrtEnvHandle : OrtHandle
{
    protected override void Release(nint p) => NativeMethods.ReleaseEnv(p);
}

internal sealed unsafe class OrtSessionOptionsHandle : OrtHandle
{
    protected override void Release(nint p) => NativeMethods.ReleaseSessionOptions(p);
}

internal sealed unsafe class OrtSessionHandle : OrtHandle
{
    protected override void Release(nint p) => NativeMethods.ReleaseSession(p);
}

internal sealed unsafe class OrtValueHandle : OrtHandle
{
    protected override void Release(nint p) => NativeMethods.ReleaseValue(p);
}

internal sealed unsafe class OrtIoBindingHandle : OrtHandle
{
    protected override void Release(nint p) => NativeMethods.ReleaseIoBinding(p);
}

internal sealed unsafe class OrtMemoryInfoHandle : OrtHandle
{
    protected override void Release(nint p) => NativeMethods.ReleaseMemoryInfo(p);
}

internal sealed unsafe class OrtTypeInfoHandle : OrtHandle
{
    protected override void Release(nint p) => NativeMethods.ReleaseTypeInfo(p);
}

internal sealed unsafe class OrtTensorTypeAndShapeInfoHandle : OrtHandle
{
    protected override void Release(nint p) => NativeMethods.ReleaseTensorTypeAndShapeInfo(p);
}

internal sealed unsafe class OrtCudaOptionsHandle : OrtHandle
{
    protected override void Release(nint p) => NativeMethods.ReleaseCudaOptions(p);
}

internal sealed unsafe class OrtTensorRtOptionsHandle : OrtHandle
{
    protected override void Release(nint p) => NativeMethods.ReleaseTensorRtOptions(p);
}

/// <summary>64-byte aligned unmanaged memory (what ONNX Runtime's kernels like), owned like any other native object.</summary>
internal sealed unsafe class NativeBufferHandle : SafeHandle
{
    internal const int Alignment = 64;

    public NativeBufferHandle(nuint bytes) : base(0, ownsHandle: true)
    {
        SetHandle((nint)NativeMemory.AlignedAlloc(bytes == 0 ? 1 : bytes, Alignment));
        NativeMemory.Clear((void*)handle, bytes);
        Bytes = bytes;
    }

    public nuint Bytes { get; }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        return true;
    }
}
