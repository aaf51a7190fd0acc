using System.Collections.Concurrent;
using System.Diagnostics;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Tests;

/// <summary>
/// The controller's MQTT link listens on robotctl/&lt;id&gt;/estop (a real mosquitto broker, messages published with
/// mosquitto_pub): anything there but a Rearm frame is an e-stop request; a request that arrives before anyone
/// listens is kept for the first subscriber.
/// </summary>
[Trait("Category", "Slow")]
public class MqttEStopTopicTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_message_on_the_estop_topic_is_an_estop_request_and_a_rearm_frame_is_not()
    {
        using var dir = new TempDir();
        using var broker = new Broker(dir.Path);
        await broker.StartAsync();
        await using var link = new MqttArmLink(new MqttLinkOptions { Host = "127.0.0.1", Port = broker.Port, RobotId = "es1" });
        var requests = new ConcurrentQueue<string>();
        link.EStopRequested += requests.Enqueue;
        await link.ConnectAsync(CancellationToken.None);

        // The subscription is made after the connect: publish until it is in place.
        await PublishUntil(broker.Port, "robotctl/es1/estop", "-m stop", () => !requests.IsEmpty);
        Assert.Contains("robotctl/es1/estop", requests.First());

        // A Rearm frame (anyone's) does not count; the next plain request, published after it, does.
        var count = requests.Count;
        var rearm = dir.File("rearm.bin");
        var frame = new byte[WireFrame.MaxFrameSize];
        File.WriteAllBytes(rearm, frame.AsSpan(0, WireFrame.Encode(frame, MessageType.Rearm, 7, 1, [])).ToArray());
        await Publish(broker.Port, "robotctl/es1/estop", $"-f {rearm}");
        var estop = dir.File("estop.bin");
        File.WriteAllBytes(estop, frame.AsSpan(0, WireFrame.Encode(frame, MessageType.EStop, 8, 2, [])).ToArray());
        await Publish(broker.Port, "robotctl/es1/estop", $"-f {estop}");
        await TestRig.WaitUntil(() => requests.Count > count, Generous, "the EStop frame's request");
        Assert.All(requests, r => Assert.DoesNotContain("Rearm", r));
        Assert.Contains(requests, r => r.Contains("EStop frame"));
    }

    [Fact]
    public async Task A_retained_estop_that_arrives_before_anyone_listens_reaches_the_first_subscriber()
    {
        using var dir = new TempDir();
        using var broker = new Broker(dir.Path);
        await broker.StartAsync();
        await Publish(broker.Port, "robotctl/es2/estop", "-r -m stop");
        await using var link = new MqttArmLink(new MqttLinkOptions { Host = "127.0.0.1", Port = broker.Port, RobotId = "es2" });
        await link.ConnectAsync(CancellationToken.None);

        // Subscribe (again and again, fresh handler each time) until the retained request has been delivered.
        string? received = null;
        await TestRig.WaitUntil(() =>
        {
            Action<string> handler = r => received ??= r;
            link.EStopRequested += handler;
            link.EStopRequested -= handler;
            return received is not null;
        }, Generous, "the retained e-stop request");
        Assert.Contains("(retained)", received);
    }

    private static async Task PublishUntil(int port, string topic, string payloadArgs, Func<bool> done)
    {
        var sw = Stopwatch.StartNew();
        while (!done())
        {
            if (sw.Elapsed > Generous) throw new TimeoutException($"no e-stop request within {Generous.TotalSeconds} s of publishing to {topic}");
            await Publish(port, topic, payloadArgs);
            for (var i = 0; i < 50 && !done(); i++) await Task.Delay(10); // poll a while before publishing again
        }
    }

    private static async Task Publish(int port, string topic, string payloadArgs)
    {
        using var p = TestRig.Start("mosquitto_pub", $"-h 127.0.0.1 -p {port} -q 1 -t {topic} {payloadArgs}");
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        await p.WaitForExitAsync().WaitAsync(Generous);
        Assert.Equal(0, p.ExitCode);
    }
}
