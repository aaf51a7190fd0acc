using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;

namespace RobotCtl.Inference;

/// <summary>A call into ONNX Runtime failed: <see cref="Code"/> and the runtime's own message.</summary>
public sealed partial class OrtException(OrtErrorCode code, string message, Exception? inner = null)
    : Exception($"ONNX Runtime error {code}: {message}", inner)
{
    public OrtErrorCode Code { get; } = code;

    /// <summary>The message as ONNX Runtime gave it (without the managed API's "[ErrorCode:...]" prefix).</summary>
    public string NativeMessage { get; } = message;

    /// <summary>
    /// Our exception for the managed API's: its error code is not public, only written into the message as
    /// "[ErrorCode:Name] text", so it is read back from there.
    /// </summary>
    internal static OrtException From(OnnxRuntimeException e)
    {
        var match = Prefix().Match(e.Message);
        if (!match.Success) return new OrtException(OrtErrorCode.Fail, e.Message, e);
        var code = Enum.TryParse<OrtErrorCode>(match.Groups[1].Value, ignoreCase: true, out var c) ? c : OrtErrorCode.Fail;
        return new OrtException(code, e.Message[match.Length..], e);
    }

    [GeneratedRegex(@"^\[ErrorCode:(\w+)\]\s*")]
    private static partial Regex Prefix();
}
