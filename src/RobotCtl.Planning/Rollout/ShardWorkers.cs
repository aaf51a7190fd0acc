using System.Runtime.ExceptionServices;

namespace RobotCtl.Planning.Rollout;

/// <summary>
/// Runs one piece of work per shard at once: shard 0 on the calling thread, each other shard on a thread of its own,
/// started once and parked between runs. <see cref="Run"/> allocates nothing when given a delegate made once. Why:
/// ONNX Runtime's own intra-op threads split each operator, and operators that split badly (the int8 predictor's
/// quantise-multiply-rescale, a graph's many small norms and elementwise ops) leave cores waiting; candidates split
/// into shards, each predicted on one thread, keep every core busy (measured in docs/PERFORMANCE.md: 1.28x for int8 on
/// 2 cores, within the machine's noise for fp32).
/// The caller waits for the other shards on a monitor created here: CountdownEvent's wait made its lock object the
/// first time it had to block, 24 B in the middle of a plan long after warm-up (a loaded machine, slow shards).
/// </summary>
internal sealed class ShardWorkers : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _go;
    private readonly object _gate = new();   // guards _pending; the caller waits on it (Monitor.Wait: not a Lock) for the other shards
    private int _pending;
    private Action<int>? _work;
    private Exception? _failure;
    private volatile bool _stopping;

    public ShardWorkers(int shards, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 2);
        Shards = shards;
        _go = new SemaphoreSlim[shards - 1];
        _threads = new Thread[shards - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            _go[i] = new SemaphoreSlim(0);
            var shard = i + 1;
            _threads[i] = new Thread(() => Loop(shard)) { IsBackground = true, Name = $"{name} shard {shard}" };
            _threads[i].Start();
        }
    }

    public int Shards { get; }

    /// <summary>Runs <paramref name="work"/>(shard) for every shard and returns when all have; the first exception
    /// thrown by any shard is rethrown here.</summary>
    public void Run(Action<int> work)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        _work = work;
        _failure = null;
        lock (_gate) _pending = Shards - 1;
        foreach (var go in _go) go.Release();
        try
        {
            work(0);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
        }
        lock (_gate)
            while (_pending > 0) Monitor.Wait(_gate);
        if (_failure is { } failure) ExceptionDispatchInfo.Capture(failure).Throw();
    }

    private void Loop(int shard)
    {
        var go = _go[shard - 1];
        while (true)
        {
            go.Wait();
            if (_stopping) return;
            try
            {
                _work!(shard);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            finally
            {
                lock (_gate)
                    if (--_pending == 0) Monitor.Pulse(_gate);
            }
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        foreach (var go in _go) go.Release();
        foreach (var thread in _threads) thread.Join();
        foreach (var go in _go) go.Dispose();
    }
}
