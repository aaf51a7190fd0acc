namespace RobotCtl.Inference.Tests;

public class OnnxRuntimeTests
{
    [Fact]
    public void Loads_the_setup_library_and_its_C_API_answers()
    {
        var library = OnnxRuntime.Load();

        // GetVersionString is entry 1 of OrtApiBase; GetAvailableProviders/ReleaseAvailableProviders are OrtApi entries
        // 125/126: a wrong index would not give these answers.
        if (Environment.GetEnvironmentVariable(OnnxRuntime.EnvironmentVariable) is null)
            Assert.Equal(OnnxRuntime.SetupVersion, library.Version);
        Assert.Matches(@"^1\.\d+\.\d+", library.Version);
        Assert.Contains("CPUExecutionProvider", library.AvailableProviders);
        Assert.True(File.Exists(library.Path), library.Path);
        Assert.Contains(library.Path, library.ToString());
        Assert.Contains(library.Version, library.ToString());
    }

    [Fact]
    public void A_missing_explicit_library_names_the_path_and_how_to_fetch_one()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-dir", "libonnxruntime.so.1");

        var error = Assert.Throws<InferenceSetupException>(() => OnnxRuntime.Load(missing));

        Assert.Contains(missing, error.Message);
        Assert.Contains("Inference:OnnxRuntimeLibrary", error.Message);
        Assert.Contains("scripts/setup", error.Message);
    }

    [Fact]
    public void Nothing_found_lists_where_it_looked_and_says_scripts_setup_fetches_it()
    {
        var empty = Directory.CreateTempSubdirectory("robotctl-ort-").FullName;
        try
        {
            // The system library path may hold a copy on some machines; only then is there nothing to assert.
            var found = TryLocate(empty);
            if (found is { } hit)
            {
                Assert.Equal("the system library path", hit.FoundBy);
                return;
            }
            var error = Assert.Throws<InferenceSetupException>(() => OnnxRuntime.Locate(null, null, empty, empty));
            Assert.Contains(Path.Combine(empty, ".tools", "onnxruntime-*"), error.Message);
            Assert.Contains("scripts/setup", error.Message);
            Assert.Contains(OnnxRuntime.EnvironmentVariable, error.Message);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void The_environment_variable_wins_over_the_tools_folder_and_a_folder_path_is_accepted()
    {
        var library = OnnxRuntime.Load();
        var folder = Path.GetDirectoryName(library.Path)!;

        var (path, foundBy) = OnnxRuntime.Locate(null, folder, "/nonexistent-home", "/");

        Assert.Equal(library.Path, path);
        Assert.Contains(OnnxRuntime.EnvironmentVariable, foundBy);
    }

    [Fact]
    public void Tools_folders_are_found_above_the_application_directory()
    {
        var (path, _) = OnnxRuntime.Locate(null, null, null, AppContext.BaseDirectory);

        Assert.StartsWith(Path.Combine(TestData.RepoRoot, ".tools", "onnxruntime-"), path);
    }

    private static (string Path, string FoundBy)? TryLocate(string empty)
    {
        try
        {
            return OnnxRuntime.Locate(null, null, empty, empty);
        }
        catch (InferenceSetupException)
        {
            return null;
        }
    }
}
