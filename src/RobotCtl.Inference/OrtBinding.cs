using Microsoft.ML.OnnxRuntime;

namespace RobotCtl.Inference;

/// <summary>
/// An ONNX Runtime IoBinding: tensors bound once to a session's inputs and outputs, so repeated
/// <see cref="OnnxGraph.Run(OrtBinding)"/> calls reuse the same memory (outputs are written into our tensors)
/// and allocate nothing managed. One binding per concurrent caller. The binding keeps its tensors reachable; dispose
/// them after the binding.
/// </summary>
public sealed class OrtBinding : IDisposable
{
    private readonly List<OrtTensor> _bound = [];

    internal OrtBinding(OnnxGraph graph, OrtIoBinding native)
    {
        Graph = graph;
        Native = native;
    }

    public OnnxGraph Graph { get; }

    internal OrtIoBinding Native { get; }

    public bool IsDisposed { get; private set; }

    public void BindInput(string name, OrtTensor tensor) => Bind(name, tensor, input: true);

    public void BindOutput(string name, OrtTensor tensor) => Bind(name, tensor, input: false);

    private void Bind(string name, OrtTensor tensor, bool input)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ObjectDisposedException.ThrowIf(tensor.IsDisposed, tensor);
        Graph.RequireName(name, input);
        try
        {
            if (input) Native.BindInput(name, tensor.Value);
            else Native.BindOutput(name, tensor.Value);
        }
        catch (OnnxRuntimeException e)
        {
            throw OrtException.From(e);
        }
        // ONNX Runtime reads and writes the tensor's memory on every run of this binding.
        _bound.Add(tensor);
    }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Native.Dispose();
        _bound.Clear();
    }
}
