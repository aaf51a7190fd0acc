using System.Text.Json;

namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// Reads a model directory's reference/ folder (models/README.md, "reference"): reference.json lists the cases, each
/// output is a little-endian float32 file beside it, and the inputs are regenerated from their formula.
/// </summary>
public static class ReferenceCases
{
    public const string FolderName = "reference";

    public static string Folder(string modelDirectory) => Path.Combine(modelDirectory, FolderName);

    /// <summary>x[i] = float32(sin(i * 0.0137 + offset)), computed in double: the inputs of every reference case and dry run.</summary>
    public static float[] Formula(long count, double offset)
    {
        var x = new float[count];
        for (long i = 0; i < count; i++) x[i] = (float)Math.Sin(i * 0.0137 + offset);
        return x;
    }

    /// <summary>The cases of <paramref name="modelDirectory"/>/reference, in the order reference.json lists them.</summary>
    /// <exception cref="InvalidDataException">reference.json or an output file is missing, malformed or of the wrong size; the message names the file.</exception>
    public static IReadOnlyList<ReferenceCase> Read(string modelDirectory)
    {
        var folder = Folder(modelDirectory);
        var index = Path.Combine(folder, "reference.json");
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(index));
            root = doc.RootElement.Clone();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new InvalidDataException($"{index}: cannot be read as JSON ({e.Message})", e);
        }

        var cases = new List<ReferenceCase>();
        try
        {
            foreach (var c in root.GetProperty("cases").EnumerateArray())
                cases.Add(ReadCase(folder, c));
        }
        // GetProperty and the typed getters throw these for a missing field or one of another JSON kind.
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{index}: malformed ({e.Message}); expected {{\"cases\": [{{name, graph, inputs, output}}]}}", e);
        }
        return cases;
    }

    private static ReferenceCase ReadCase(string folder, JsonElement c)
    {
        var name = c.GetProperty("name").GetString()!;
        var inputs = c.GetProperty("inputs").EnumerateObject()
            .Select(p => new ReferenceInput(p.Name, Shape(p.Value), p.Value.GetProperty("offset").GetDouble()))
            .ToList();
        var output = c.GetProperty("output");
        var shape = Shape(output);
        var file = Path.Combine(folder, output.GetProperty("file").GetString()!);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{file}: cannot be read (case {name}): {e.Message}", e);
        }
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (bytes.Length != count * sizeof(float))
            throw new InvalidDataException($"{file}: {bytes.Length} bytes, expected {count} float32 values ({count * sizeof(float)} bytes) for case {name}'s shape [{string.Join(", ", shape)}]");
        var expected = new float[count];
        Buffer.BlockCopy(bytes, 0, expected, 0, bytes.Length);   // little-endian float32, as on x64 and arm64
        return new ReferenceCase(name, c.GetProperty("graph").GetString()!, inputs, output.GetProperty("name").GetString()!, shape, expected);
    }

    private static long[] Shape(JsonElement e) => e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
}
