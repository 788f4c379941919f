package dev.lamina.actors.registry;

import dev.lamina.actors.CborSerializable;

/**
 * Provisioned concurrency asked for one published version or alias of a function.
 *
 * @param qualifier a version number or an alias name
 * @param lastModified Lambda's form for this member, e.g. {@code 2026-11-27T05:10:46+0000}
 */
public record ProvisionedConfig(String qualifier, int requested, String lastModified) implements CborSerializable {}
