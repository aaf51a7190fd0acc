using System.ComponentModel;
using System.Globalization;

namespace RobotCtl.Sim;

/// <summary>Lets configuration binding read a <see cref="SimColor"/> from "#rrggbb".</summary>
public sealed class SimColorConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text ? SimColor.Parse(text.Trim()) : base.ConvertFrom(context, culture, value);
}
