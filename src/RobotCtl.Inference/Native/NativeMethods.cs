using System.Runtime.InteropServices;

namespace RobotCtl.Inference.Native;

/// <summary>
/// The part of ONNX Runtime's C API that robotctl uses. The C API is a table of function pointers (OrtApi) returned by
/// OrtGetApiBase()->GetApi(version); the table is append-only across releases, so every entry keeps its index. We bind
/// only the entries we call, by index (counted from include/onnxruntime/core/session/onnxruntime_c_api.h and checked
/// against the static_asserts in onnxruntime_c_api.cc: ReleaseCustomOpDomain = 101, ReleaseModelMetadata = 118,
/// ReleaseAvailableProviders = 126, SetGlobalSpinControl = 149, ReleaseArenaCfg = 157, GetCurrentGpuDeviceId = 161,
/// CreateSessionFromArrayWithPrepackedWeightsContainer = 169, SynchronizeBoundOutputs = 203).
/// Every OrtStatus* result is turned into an <see cref="OrtException"/> by <see cref="Check"/>.
/// </summary>
internal static unsafe class NativeMethods
{
    /// <summary>The newest OrtApi version whose entries we bind: CUDA_V2 provider options arrived in version 11 (ORT 1.11).</summary>
    internal const uint RequiredApiVersion = 11;

    // --- OrtStatus --------------------------------------------------------------------------------------------
    internal static delegate* unmanaged[Cdecl]<nint, int> GetErrorCode;                                     // 1
    internal static delegate* unmanaged[Cdecl]<nint, byte*> GetErrorMessage;                                // 2
    internal static delegate* unmanaged[Cdecl]<nint, void> ReleaseStatus;                                   // 93

    // --- OrtEnv -------------------------------------------------------------------------------------------------
    internal static delegate* unmanaged[Cdecl]<int, byte*, nint*, nint> CreateEnv;                          // 3
    internal static delegate* unmanaged[Cdecl]<nint, void> ReleaseEnv;                                      // 92

    // --- OrtSession -----------------------------------------------------------------------------------------
    internal static delegate* unmanaged[Cdecl]<nint, byte*, nint, nint*, nint> CreateSession;               // 7
    internal static delegate* unmanaged[Cdecl]<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint> Run; // 9
    internal static delegate* unmanaged[Cdecl]<nint, nuint*, nint> SessionGetInputCount;                   // 30
    internal static delegate* unmanaged[Cdecl]<nint, nuint*, nint> SessionGetOutputCount;                  // 31
    internal static delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint> SessionGetInputTypeInfo;          // 33
    internal static delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint> SessionGetOutputTypeInfo;         // 34
    internal static delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint> SessionGetInputName;       // 36
    internal static delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint> SessionGetOutputName;      // 37
    internal static delegate* unmanaged[Cdecl]<nint, void> ReleaseSession;                                  // 95

    // --- OrtSessionOptions ----------------------------------------------------------------------------------
    internal static delegate* unmanaged[Cdecl]<nint*, nint> CreateSessionOptions;                          // 10
    internal static delegate* unmanaged[Cdecl]<nint, int, nint> SetSessionExecutionMode;                   // 13
    internal static delegate* unmanaged[Cdecl]<nint, byte*, nint> EnableProfiling;                          // 14
    internal static delegate* unmanaged[Cdecl]<nint, int, nint> SetSessionGraphOptimizationLevel;          // 23
    internal static delegate* unmanaged[Cdecl]<nint, int, nint> SetIntraOpNumThreads;                      // 24
    internal static delegate* unmanaged[Cdecl]<nint, int, nint> SetInterOpNumThreads;                      // 25
    internal static delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint> AddSessionConfigEntry;            // 130
    internal static delegate* unmanaged[Cdecl]<nint, void> ReleaseSessionOptions;                           // 100

    // --- Execution providers -------------------------------------------------------------------------------
    internal static delegate* unmanaged[Cdecl]<byte***, int*, nint> GetAvailableProviders;                 // 125
    internal static delegate* unmanaged[Cdecl]<byte**, int, nint> ReleaseAvailableProviders;               // 126
    internal static delegate* unmanaged[Cdecl]<nint, nint, nint> AppendTensorRtV2;                          // 170
    internal static delegate* unmanaged[Cdecl]<nint*, nint> CreateTensorRtOptions;                          // 171
    internal static delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint> UpdateTensorRtOptions;    // 172
    internal static delegate* unmanaged[Cdecl]<nint, void> ReleaseTensorRtOptions;                          // 174
    internal static delegate* unmanaged[Cdecl]<nint, nint, nint> AppendCudaV2;                              // 204
    internal static delegate* unmanaged[Cdecl]<nint*, nint> CreateCudaOptions;                              // 205
    internal static delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint> UpdateCudaOptions;        // 206
    internal static delegate* unmanaged[Cdecl]<nint, void> ReleaseCudaOptions;                              // 208

    // --- OrtValue / tensors ---------------------------------------------------------------------------------
    internal static delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue; // 49
    internal static delegate* unmanaged[Cdecl]<nint, void**, nint> GetTensorMutableData;                   // 51
    internal static delegate* unmanaged[Cdecl]<nint, nint*, nint> GetTensorTypeAndShape;                   // 65
    internal static delegate* unmanaged[Cdecl]<nint, void> ReleaseValue;                                    // 96

    // --- Type and shape information ------------------------------------------------------------------------
    internal static delegate* unmanaged[Cdecl]<nint, nint*, nint> CastTypeInfoToTensorInfo;                // 55
    internal static delegate* unmanaged[Cdecl]<nint, int*, nint> GetOnnxTypeFromTypeInfo;                  // 56
    internal static delegate* unmanaged[Cdecl]<nint, int*, nint> GetTensorElementType;                     // 60
    internal static delegate* unmanaged[Cdecl]<nint, nuint*, nint> GetDimensionsCount;                     // 61
    internal static delegate* unmanaged[Cdecl]<nint, long*, nuint, nint> GetDimensions;                    // 62
    internal static delegate* unmanaged[Cdecl]<nint, byte**, nuint, nint> GetSymbolicDimensions;           // 63
    internal static delegate* unmanaged[Cdecl]<nint, void> ReleaseTypeInfo;                                 // 98
    internal static delegate* unmanaged[Cdecl]<nint, void> ReleaseTensorTypeAndShapeInfo;                  // 99

    // --- Memory info and the default allocator (names returned by the session are allocated with it) ----------
    internal static delegate* unmanaged[Cdecl]<int, int, nint*, nint> CreateCpuMemoryInfo;                 // 69
    internal static delegate* unmanaged[Cdecl]<nint, void*, nint> AllocatorFree;                           // 76
    internal static delegate* unmanaged[Cdecl]<nint*, nint> GetAllocatorWithDefaultOptions;                // 78
    internal static delegate* unmanaged[Cdecl]<nint, void> ReleaseMemoryInfo;                               // 94

    // --- IoBinding ------------------------------------------------------------------------------------------
    internal static delegate* unmanaged[Cdecl]<nint, nint, nint, nint> RunWithBinding;                      // 133
    internal static delegate* unmanaged[Cdecl]<nint, nint*, nint> CreateIoBinding;                          // 134
    internal static delegate* unmanaged[Cdecl]<nint, void> ReleaseIoBinding;                               // 135
    internal static delegate* unmanaged[Cdecl]<nint, byte*, nint, nint> BindInput;                          // 136
    internal static delegate* unmanaged[Cdecl]<nint, byte*, nint, nint> BindOutput;                         // 137

    /// <summary>Fills the function pointers from the OrtApi table at <paramref name="api"/>.</summary>
    internal static void Bind(void** api)
    {
        GetErrorCode = (delegate* unmanaged[Cdecl]<nint, int>)api[1];
        GetErrorMessage = (delegate* unmanaged[Cdecl]<nint, byte*>)api[2];
        CreateEnv = (delegate* unmanaged[Cdecl]<int, byte*, nint*, nint>)api[3];
        CreateSession = (delegate* unmanaged[Cdecl]<nint, byte*, nint, nint*, nint>)api[7];
        Run = (delegate* unmanaged[Cdecl]<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)api[9];
        CreateSessionOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)api[10];
        SetSessionExecutionMode = (delegate* unmanaged[Cdecl]<nint, int, nint>)api[13];
        EnableProfiling = (delegate* unmanaged[Cdecl]<nint, byte*, nint>)api[14];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged[Cdecl]<nint, int, nint>)api[23];
        SetIntraOpNumThreads = (delegate* unmanaged[Cdecl]<nint, int, nint>)api[24];
        SetInterOpNumThreads = (delegate* unmanaged[Cdecl]<nint, int, nint>)api[25];
        SessionGetInputCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)api[30];
        SessionGetOutputCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)api[31];
        SessionGetInputTypeInfo = (delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)api[33];
        SessionGetOutputTypeInfo = (delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)api[34];
        SessionGetInputName = (delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)api[36];
        SessionGetOutputName = (delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)api[37];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint>)api[49];
        GetTensorMutableData = (delegate* unmanaged[Cdecl]<nint, void**, nint>)api[51];
        CastTypeInfoToTensorInfo = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)api[55];
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged[Cdecl]<nint, int*, nint>)api[56];
        GetTensorElementType = (delegate* unmanaged[Cdecl]<nint, int*, nint>)api[60];
        GetDimensionsCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)api[61];
        GetDimensions = (delegate* unmanaged[Cdecl]<nint, long*, nuint, nint>)api[62];
        GetSymbolicDimensions = (delegate* unmanaged[Cdecl]<nint, byte**, nuint, nint>)api[63];
        GetTensorTypeAndShape = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)api[65];
        CreateCpuMemoryInfo = (delegate* unmanaged[Cdecl]<int, int, nint*, nint>)api[69];
        AllocatorFree = (delegate* unmanaged[Cdecl]<nint, void*, nint>)api[76];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)api[78];
        ReleaseEnv = (delegate* unmanaged[Cdecl]<nint, void>)api[92];
        ReleaseStatus = (delegate* unmanaged[Cdecl]<nint, void>)api[93];
        ReleaseMemoryInfo = (delegate* unmanaged[Cdecl]<nint, void>)api[94];
        ReleaseSession = (delegate* unmanaged[Cdecl]<nint, void>)api[95];
        ReleaseValue = (delegate* unmanaged[Cdecl]<nint, void>)api[96];
        ReleaseTypeInfo = (delegate* unmanaged[Cdecl]<nint, void>)api[98];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged[Cdecl]<nint, void>)api[99];
        ReleaseSessionOptions = (delegate* unmanaged[Cdecl]<nint, void>)api[100];
        GetAvailableProviders = (delegate* unmanaged[Cdecl]<byte***, int*, nint>)api[125];
        ReleaseAvailableProviders = (delegate* unmanaged[Cdecl]<byte**, int, nint>)api[126];
        AddSessionConfigEntry = (delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint>)api[130];
        RunWithBinding = (delegate* unmanaged[Cdecl]<nint, nint, nint, nint>)api[133];
        CreateIoBinding = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)api[134];
        ReleaseIoBinding = (delegate* unmanaged[Cdecl]<nint, void>)api[135];
        BindInput = (delegate* unmanaged[Cdecl]<nint, byte*, nint, nint>)api[136];
        BindOutput = (delegate* unmanaged[Cdecl]<nint, byte*, nint, nint>)api[137];
        AppendTensorRtV2 = (delegate* unmanaged[Cdecl]<nint, nint, nint>)api[170];
        CreateTensorRtOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)api[171];
        UpdateTensorRtOptions = (delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint>)api[172];
        ReleaseTensorRtOptions = (delegate* unmanaged[Cdecl]<nint, void>)api[174];
        AppendCudaV2 = (delegate* unmanaged[Cdecl]<nint, nint, nint>)api[204];
        CreateCudaOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)api[205];
        UpdateCudaOptions = (delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint>)api[206];
        ReleaseCudaOptions = (delegate* unmanaged[Cdecl]<nint, void>)api[208];
    }

    /// <summary>Throws an <see cref="OrtException"/> for a non-null OrtStatus (and releases it); null means success.</summary>
    internal static void Check(nint status)
    {
        if (status == 0) return;
        throw TakeException(status);
    }

    /// <summary>Reads code and message from a failed status, releases it, and returns the exception to throw.</summary>
    internal static OrtException TakeException(nint status)
    {
        try
        {
            var code = (OrtErrorCode)GetErrorCode(status);
            var message = Marshal.PtrToStringUTF8((nint)GetErrorMessage(status)) ?? "(no message)";
            return new OrtException(code, message);
        }
        finally
        {
            ReleaseStatus(status);
        }
    }

    /// <summary>Copies a UTF-8 string into unmanaged memory (freed with <see cref="NativeMemory.Free"/>).</summary>
    internal static byte* AllocUtf8(string text)
    {
        int length = System.Text.Encoding.UTF8.GetByteCount(text);
        var p = (byte*)NativeMemory.Alloc((nuint)length + 1);
        System.Text.Encoding.UTF8.GetBytes(text, new Span<byte>(p, length));
        p[length] = 0;
        return p;
    }
}
