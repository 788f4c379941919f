package dev.lamina.actors.registry;

import dev.lamina.actors.CborSerializable;

/**
 * A layer version a function uses, resolved when the function was configured: the digest is kept
 * so that the function keeps working after the layer version is deleted.
 *
 * @param arn the layer version ARN ({@code arn:aws:lambda:<region>:<account>:layer:<name>:<n>})
 * @param codeSize zip size in bytes
 * @param codeSha256Hex SHA-256 of the zip, hex
 * @param unzippedSize bytes of content, counted towards the function's unzipped limit
 */
public record LayerRef(String arn, long codeSize, String codeSha256Hex, long unzippedSize) implements CborSerializable {

  /** The layer ARN without the version ({@code …:layer:<name>}). */
  public String layerArn() {
    return arn.substring(0, arn.lastIndexOf(':'));
  }
}
