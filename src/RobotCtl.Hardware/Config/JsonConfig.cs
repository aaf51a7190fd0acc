using System.Text.Json;

namespace RobotCtl.Hardware;

/// <summary>Reads fields from a JSON object with errors that name the file and the field (case-insensitive names).</summary>
internal readonly struct JsonConfig
{
    private readonly JsonElement _element;
    private readonly string _file;
    private readonly string _path;

    private JsonConfig(JsonElement element, string file, string path) { _element = element; _file = file; _path = path; }

    public static (JsonDocument Doc, JsonConfig Root) Open(string file)
    {
        if (!File.Exists(file)) throw new ConfigException($"{file}: file not found");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{file}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}");
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw new ConfigException($"{file}: expected a JSON object at the top, found {doc.RootElement.ValueKind}");
        }
        return (doc, new JsonConfig(doc.RootElement, file, ""));
    }

    public ConfigException Error(string field, string expected, string found) =>
        new($"{_file}: field '{Name(field)}': expected {expected}, found {found}");

    private string Name(string field) => _path.Length == 0 ? field : $"{_path}.{field}";

    private bool TryGet(string field, out JsonElement value)
    {
        foreach (var p in _element.EnumerateObject())
            if (string.Equals(p.Name, field, StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind != JsonValueKind.Null) { value = p.Value; return true; }
        value = default;
        return false;
    }

    private static string Show(JsonElement e) => e.ValueKind == JsonValueKind.String ? $"\"{e.GetString()}\"" : e.GetRawText();

    public bool Has(string field) => TryGet(field, out _);

    public JsonConfig? Object(string field)
    {
        if (!TryGet(field, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Object) throw Error(field, "an object", Show(v));
        return new JsonConfig(v, _file, Name(field));
    }

    public string? String(string field)
    {
        if (!TryGet(field, out var v)) return null;
        if (v.ValueKind != JsonValueKind.String) throw Error(field, "a string", Show(v));
        return v.GetString();
    }

    public string RequiredString(string field) => String(field) ?? throw Error(field, "a string", "nothing (the field is required)");

    public double? Number(string field)
    {
        if (!TryGet(field, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d)) throw Error(field, "a finite number", Show(v));
        return d;
    }

    public int? Int(string field)
    {
        if (!TryGet(field, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i)) throw Error(field, "an integer", Show(v));
        return i;
    }

    public double[]? Numbers(string field, int count)
    {
        if (!TryGet(field, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Error(field, $"an array of {count} numbers", Show(v));
        if (v.GetArrayLength() != count) throw Error(field, $"{count} numbers", $"{v.GetArrayLength()}: {Show(v)}");
        var result = new double[count];
        var i = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out var d) || !double.IsFinite(d))
                throw Error($"{field}[{i}]", "a finite number", Show(item));
            result[i++] = d;
        }
        return result;
    }

    public double[] RequiredNumbers(string field, int count) =>
        Numbers(field, count) ?? throw Error(field, $"an array of {count} numbers", "nothing (the field is required)");

    /// <summary>Fields not in <paramref name="known"/> are typos until proven otherwise.</summary>
    public void RejectUnknown(params string[] known)
    {
        foreach (var p in _element.EnumerateObject())
            if (!known.Contains(p.Name, StringComparer.OrdinalIgnoreCase) && !p.Name.StartsWith('$') && !p.Name.StartsWith("_", StringComparison.Ordinal))
                throw new ConfigException($"{_file}: unknown field '{Name(p.Name)}' (known: {string.Join(", ", known)})");
    }
}
