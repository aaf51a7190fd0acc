using System.Collections.Concurrent;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Mqtt;
using RobotCtl.Hardware.Servers;
using RobotCtl.Sim;

namespace RobotCtl.Hardware.Tests;

/// <summary>The in-process broker (MQTTnet.Server) carries the real link and arm server, and is observable by mosquitto_sub.</summary>
[Trait("Category", "Integration")]
public class EmbeddedBrokerTests
{
    private static MqttLinkOptions Options(int port) => new()
    {
        Port = port, RobotId = "solo", KeepAliveSeconds = 5, ConnectTimeout = TestRig.Generous,
        ReconnectInitialDelay = TimeSpan.FromSeconds(1), ReconnectMaxDelay = TimeSpan.FromSeconds(2),
    };

    [Fact]
    public async Task The_link_and_the_arm_server_talk_through_it_and_mosquitto_sub_sees_the_wire()
    {
        await using var broker = await EmbeddedMqttBroker.StartAsync(0);
        using var sub = new Subscriber(broker.Port, "robotctl/#");
        var received = new ConcurrentQueue<ReceivedCommand>();
        await using var server = new MqttArmServer(new SimWorkcell(), Options(broker.Port), new ArmServerOptions { MaxCommandAge = TimeSpan.FromSeconds(30) });
        server.CommandReceived += received.Enqueue;
        server.Start();
        await using var link = new MqttArmLink(Options(broker.Port));
        await link.ConnectAsync(CancellationToken.None);
        await TestRig.WaitUntil(() => link.RobotStatus == "online", TestRig.Generous, "the robot's retained online status");

        for (var i = 1; i <= 5; i++)
        {
            Assert.True(link.TrySend(new EeCommand(0.002f, 0, 0, 0, 0, 0, 0)));
            await TestRig.WaitUntil(() => received.Count >= i, TestRig.Generous, $"command {i}");
        }
        Assert.All(received, r => Assert.True(r.Applied, r.Outcome));
        await TestRig.WaitUntil(() => link.TryGetLatestState(out var s) && s.X > 0.0095, TestRig.Generous, "state back at the link");
        await TestRig.WaitUntil(() => sub.Messages.Count(m => m.Topic == "robotctl/solo/cmd") >= 5, TestRig.Generous, "mosquitto_sub to see the commands");
    }

    [Fact]
    public async Task A_taken_port_is_an_error_naming_the_address()
    {
        await using var first = await EmbeddedMqttBroker.StartAsync(0);
        var e = await Assert.ThrowsAsync<IOException>(async () => await EmbeddedMqttBroker.StartAsync(first.Port));
        Assert.StartsWith($"cannot start the embedded MQTT broker on 127.0.0.1:{first.Port}: ", e.Message);
    }
}
