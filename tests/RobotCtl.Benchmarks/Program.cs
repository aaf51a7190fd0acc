using BenchmarkDotNet.Running;

// Usage: dotnet run -c Release --project tests/RobotCtl.Benchmarks -- --filter '*Predictor*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
