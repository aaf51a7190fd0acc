using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RobotCtl.Dashboard;

/// <summary>
/// The dashboard's web server: Kestrel on one address, the live page of a run (when there is one), the episode
/// browser and the JSON API. Security is decided before any endpoint runs: off loopback a token is required to start
/// at all; with a token every request must carry it; without one only loopback host names are served (a DNS
/// rebinding page cannot drive the arm); state-changing endpoints are POST only and refuse cross-origin requests.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;
    private readonly LiveRun? _live;

    private DashboardServer(WebApplication app, Uri address, CancellationTokenSource stopping, LiveRun? live)
    {
        _app = app;
        _live = live;
        Address = address;
        _stopping = stopping;
    }

    /// <summary>Where it listens (the bound port when 0 was asked), e.g. http://127.0.0.1:5080/.</summary>
    public Uri Address { get; }

    /// <summary>The page's address with the token in the query, for printing.</summary>
    public string PageUrl(string? token) => token is null ? Address.ToString() : $"{Address}?token={Uri.EscapeDataString(token)}";

    /// <summary>Validates the options (throws <see cref="DashboardConfigurationException"/>), binds and starts serving; owns <paramref name="live"/> once started.</summary>
    public static async Task<DashboardServer> StartAsync(DashboardOptions options, LiveRun? live, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default)
    {
        var listen = ListenAddress.Parse(options.Listen);
        var token = string.IsNullOrEmpty(options.Token) ? null : options.Token;
        if (!listen.IsLoopback && token is null)
            throw new DashboardConfigurationException(
                $"--listen {options.Listen}: not a loopback address; the dashboard can stop and start the arm, so serving it beyond this machine needs a token (--token or Dashboard:Token)");
        if (token is not null && token.Length < 8)
            throw new DashboardConfigurationException("--token: expected at least 8 characters");

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "robotctl-dashboard", ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddSingleton<ILoggerFactory>(new DashboardLoggers(loggers ?? NullLoggerFactory.Instance));
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 16 * 1024 * 1024;
            k.Listen(listen.Address, listen.Port);
        });
        var app = builder.Build();
        app.Use(new Guard(token).InvokeAsync);
        // Ends the event streams when the server stops (they would otherwise hold the shutdown for its timeout).
        var stopping = new CancellationTokenSource();
        new Endpoints(live, options, stopping.Token).Map(app);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            stopping.Dispose();
            var reason = (e as SocketException ?? e.InnerException as SocketException) is { } socket ? ListenAddress.Reason(socket) : e.Message;
            throw new DashboardConfigurationException($"--listen {options.Listen}: cannot listen there ({reason})");
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        // Kestrel reports the address it bound (the real port when 0 was asked); an any-address bind is shown as loopback.
        var uri = new UriBuilder(bound) { Path = "/" };
        if (uri.Host is "0.0.0.0" or "[::]") uri.Host = "127.0.0.1";
        return new DashboardServer(app, uri.Uri, stopping, live);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _app.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _stopping.Dispose();
            _live?.Dispose(); // owned from a successful start on: detaches from the loop
        }
    }

    internal static string Page(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"RobotCtl.Dashboard.{name}")
            ?? throw new InvalidOperationException($"the dashboard page {name} is not embedded");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>The checks every request passes before an endpoint: host, token, same origin for state changes.</summary>
    private sealed class Guard(string? token)
    {
        private readonly byte[]? _token = token is null ? null : Encoding.UTF8.GetBytes(token);

        public async Task InvokeAsync(HttpContext context, RequestDelegate next)
        {
            var request = context.Request;
            if (_token is null && !IsLoopbackHost(request.Host.Host))
            {
                // Without a token only this machine is trusted, and only under a loopback name: a page on another
                // site that re-points its own name at 127.0.0.1 (DNS rebinding) sends its own Host.
                await Refuse(context, StatusCodes.Status403Forbidden, $"host {request.Host.Host} refused: without a token the dashboard serves only loopback names").ConfigureAwait(false);
                return;
            }
            if (_token is not null && !HasToken(request))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await Refuse(context, StatusCodes.Status401Unauthorized, "a token is required (Authorization: Bearer <token>, or ?token= on GET)").ConfigureAwait(false);
                return;
            }
            if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && CrossOrigin(request) is { } why)
            {
                await Refuse(context, StatusCodes.Status403Forbidden, $"cross-origin request refused ({why})").ConfigureAwait(false);
                return;
            }
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers.XFrameOptions = "DENY"; // the E-STOP button must not be framed by another page
            context.Response.Headers["Referrer-Policy"] = "no-referrer"; // the token may be in the page's query
            await next(context).ConfigureAwait(false);
        }

        private static bool IsLoopbackHost(string host) =>
            string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ||
            (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

        private bool HasToken(HttpRequest request)
        {
            string? given = null;
            var authorization = request.Headers.Authorization.ToString();
            if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) given = authorization[7..].Trim();
            // Images, the page and its event stream cannot set headers: a query token is accepted, on reads only.
            else if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) given = request.Query["token"].ToString();
            if (string.IsNullOrEmpty(given)) return false;
            return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _token);
        }

        /// <summary>Null when the request comes from this dashboard's own page or from a non-browser client; else why not.</summary>
        private static string? CrossOrigin(HttpRequest request)
        {
            var site = request.Headers["Sec-Fetch-Site"].ToString();
            if (site.Length > 0 && site != "same-origin") return $"Sec-Fetch-Site: {site}";
            var origin = request.Headers.Origin.ToString();
            if (origin.Length == 0) return null; // curl, scripts: no browser is involved
            var own = $"{request.Scheme}://{request.Host}";
            return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) ? null : $"Origin {origin} is not {own}";
        }

        private static Task Refuse(HttpContext context, int status, string message)
        {
            context.Response.StatusCode = status;
            return context.Response.WriteAsJsonAsync(new { error = message }, Json);
        }
    }

    /// <summary>
    /// The caller's loggers, quieter: ASP.NET Core logs every request at Information (8 lines a second for one
    /// dashboard client, in the run's log), so only its warnings pass; and the generic host's own log of a failed start
    /// (a stack trace) and lifetime notes ("Press Ctrl+C") are dropped: the caller says where it listens, and reports a
    /// failed start once, as one line naming --listen.
    /// </summary>
    private sealed class DashboardLoggers(ILoggerFactory inner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) =>
            categoryName.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal) || categoryName.StartsWith("Microsoft.Hosting", StringComparison.Ordinal) ? NullLogger.Instance
            : categoryName.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) ? new WarningsOnly(inner.CreateLogger(categoryName))
            : inner.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose() { } // the caller owns inner

        private sealed class WarningsOnly(ILogger inner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel)) inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
