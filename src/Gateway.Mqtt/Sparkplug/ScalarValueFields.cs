namespace FactoryGateway.Mqtt.Sparkplug.Protobuf;

/// <summary>
/// The six scalar fields that four Sparkplug messages share by name and type (Metric, PropertyValue,
/// DataSetValue, Template.Parameter), so that one method sets whichever a value uses.
/// </summary>
internal interface IScalarValueFields
{
    uint IntValue { get; set; }

    ulong LongValue { get; set; }

    float FloatValue { get; set; }

    double DoubleValue { get; set; }

    bool BooleanValue { get; set; }

    string StringValue { get; set; }
}

// The generated classes already have these properties; the partial declarations only name the interface.
internal sealed partial class Payload
{
    public static partial class Types
    {
        internal sealed partial class Metric : IScalarValueFields;

        internal sealed partial class PropertyValue : IScalarValueFields;

        internal sealed partial class DataSet
        {
            public static partial class Types
            {
                internal sealed partial class DataSetValue : IScalarValueFields;
            }
        }

        internal sealed partial class Template
        {
            public static partial class Types
            {
                internal sealed partial class Parameter : IScalarValueFields;
            }
        }
    }
}
