using RobotCtl.Inference.Native;

namespace RobotCtl.Inference;

/// <summary>
/// An ONNX Runtime IoBinding: tensors bound once to a session's inputs and outputs, so repeated
/// <see cref="InferenceSession.Run(OrtBinding)"/> calls reuse the same memory (outputs are written into our tensors)
/// and marshal nothing. One binding per concurrent caller.
/// </summary>
public sealed unsafe class OrtBinding : IDisposable
{
    internal OrtBinding(InferenceSession session, OrtIoBindingHandle handle)
    {
        Session = session;
        Handle = handle;
    }

    public InferenceSession Session { get; }

    internal OrtIoBindingHandle Handle { get; }

    public void BindInput(string name, OrtTensor tensor) => Bind(name, tensor, input: true);

    public void BindOutput(string name, OrtTensor tensor) => Bind(name, tensor, input: false);

    private void Bind(string name, OrtTensor tensor, bool input)
    {
        var known = input ? Session.Inputs : Session.Outputs;
        if (!known.Any(m => m.Name == name))
            throw new ArgumentException(
                $"{Session.ModelPath} has no {(input ? "input" : "output")} named '{name}' (it has: {string.Join(", ", known.Select(m => m.Name))})",
                nameof(name));
        var n = NativeMethods.AllocUtf8(name);
        bool added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
            var b = Handle.DangerousGetHandle();
            var v = tensor.Value.DangerousGetHandle();
            NativeMethods.Check(input ? NativeMethods.BindInput(b, n, v) : NativeMethods.BindOutput(b, n, v));
            // ONNX Runtime holds the value (and so our memory) until the binding is released.
            Handle.KeepAlive(tensor.Value);
        }
        finally
        {
            if (added) Handle.DangerousRelease();
            System.Runtime.InteropServices.NativeMemory.Free(n);
        }
    }

    public void Dispose() => Handle.Dispose();
}
