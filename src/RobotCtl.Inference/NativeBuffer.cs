using System.Runtime.InteropServices;

namespace RobotCtl.Inference;

/// <summary>Zeroed 64-byte aligned native memory; a SafeHandle so that a tensor never disposed is still freed.</summary>
internal sealed unsafe class NativeBuffer : SafeHandle
{
    public NativeBuffer(nuint bytes) : base(0, ownsHandle: true)
    {
        var p = NativeMemory.AlignedAlloc(Math.Max(bytes, 1), 64);
        NativeMemory.Clear(p, bytes);
        SetHandle((nint)p);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        return true;
    }
}
