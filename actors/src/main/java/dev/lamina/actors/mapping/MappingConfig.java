package dev.lamina.actors.mapping;

import dev.lamina.actors.CborSerializable;

/**
 * One event source mapping: a Lamina queue polled for a function.
 *
 * @param functionArn the function ARN as the caller qualified it (Lambda echoes it so)
 * @param qualifier the version or alias invoked, or null for {@code $LATEST}
 * @param maximumConcurrency {@code ScalingConfig.MaximumConcurrency}, or null (the node's default)
 * @param lastModified epoch seconds with a fraction
 */
public record MappingConfig(String uuid, String eventSourceArn, String functionName, String qualifier,
    String functionArn, int batchSize, int maximumBatchingWindowSeconds, boolean enabled, Integer maximumConcurrency,
    boolean reportBatchItemFailures, boolean bisectBatchOnFunctionError, double lastModified)
    implements CborSerializable {}
