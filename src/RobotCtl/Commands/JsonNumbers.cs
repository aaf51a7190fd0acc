using System.Text.Json;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Commands;

/// <summary>Nested JSON arrays of finite numbers from a file, with errors that name the option, the file and the element.</summary>
internal static class JsonNumbers
{
    public static float[][] ReadMatrix(string path, string option)
    {
        var root = Parse(path, option);
        return Rows(root, path, option, "");
    }

    public static float[][][] ReadCube(string path, string option)
    {
        var root = Parse(path, option);
        if (root.ValueKind != JsonValueKind.Array) throw new ArgumentException($"{option} {path}: expected a JSON array of arrays of arrays of numbers, found {root.ValueKind}");
        return root.EnumerateArray().Select((e, i) => Rows(e, path, option, $"[{i}]")).ToArray();
    }

    private static JsonElement Parse(string path, string option)
    {
        var resolved = RobotCtlHome.Resolve(path);
        if (Directory.Exists(resolved)) throw new ArgumentException($"{option} {path}: is a directory, expected a JSON file");
        if (!File.Exists(resolved)) throw new ArgumentException($"{option} {path}: file not found ({resolved})");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(resolved));
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{option} {path}: not valid JSON ({e.Message.Split(" LineNumber:")[0]} at line {e.LineNumber + 1})");
        }
    }

    private static float[][] Rows(JsonElement e, string path, string option, string at)
    {
        if (e.ValueKind != JsonValueKind.Array) throw new ArgumentException($"{option} {path}{at}: expected an array of arrays of numbers, found {e.ValueKind}");
        return e.EnumerateArray().Select((row, i) =>
        {
            if (row.ValueKind != JsonValueKind.Array) throw new ArgumentException($"{option} {path}{at}[{i}]: expected an array of numbers, found {row.ValueKind}");
            return row.EnumerateArray().Select((v, j) =>
                v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) && Math.Abs(d) <= float.MaxValue
                    ? (float)d
                    : throw new ArgumentException($"{option} {path}{at}[{i}][{j}]: expected a finite number, found {(v.ValueKind == JsonValueKind.String ? $"\"{v.GetString()}\"" : v.GetRawText())}")).ToArray();
        }).ToArray();
    }
}
