package dev.lamina.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.actors.LambdaError;
import dev.lamina.persistence.code.CodeDigest;
import dev.lamina.persistence.code.CodeStore;
import dev.lamina.persistence.code.ZipPackage;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Code packages as they arrive in request bodies (function code and layer content): decoding,
 * Lambda's checks and messages, and storage. Blocking: call from the blocking executor.
 */
final class CodeUploads {

  /** A checked package; {@code digest} is null until it is stored. */
  record Upload(byte[] zip, long unzippedSize) {
    long size() {
      return zip.length;
    }
  }

  private final NodeSettings settings;
  private final CodeStore code;

  CodeUploads(NodeSettings settings, CodeStore code) {
    this.settings = settings;
    this.code = code;
  }

  /**
   * The decoded {@code ZipFile} of {@code container} (a FunctionCode, a layer's Content, an
   * UpdateFunctionCode body), or null when it has none.
   */
  static byte[] zipFile(NodeSettings settings, JsonNode container) {
    if (container == null || container.isNull()) {
      return null;
    }
    if (container.hasNonNull("S3Bucket") || container.hasNonNull("S3Key")) {
      throw LambdaError.invalid("Lamina has no S3; send the package as ZipFile.");
    }
    JsonNode zip = container.get("ZipFile");
    if (zip == null || zip.isNull()) {
      return null;
    }
    byte[] bytes;
    try {
      bytes = zip.binaryValue();
    } catch (IOException | IllegalArgumentException e) {
      throw unreadable();
    }
    if (bytes == null) {
      throw unreadable();
    }
    if (bytes.length > settings.maxZippedBytes()) {
      throw new LambdaError(LambdaError.Code.RequestEntityTooLargeException,
          "Zipped size must be smaller than " + settings.maxZippedBytes() + " bytes");
    }
    return bytes;
  }

  /** Checks that {@code zip} is a safe package within the unzipped limit. */
  Upload inspect(byte[] zip) {
    try {
      return new Upload(zip, ZipPackage.inspect(zip, settings.maxUnzippedBytes()).unzippedSize());
    } catch (ZipPackage.InvalidPackageException e) {
      if (e.tooLargeUnzipped()) {
        throw LambdaError.invalid("Unzipped size must be smaller than " + settings.maxUnzippedBytes() + " bytes");
      }
      throw unreadable();
    }
  }

  /** Stores a checked package. */
  CodeDigest store(Upload upload) {
    try {
      return code.put(upload.zip());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Lambda refuses function code and layers whose content together exceeds the unzipped limit. */
  void checkCombined(long totalUnzipped) {
    if (totalUnzipped > settings.maxUnzippedBytes()) {
      throw LambdaError.invalid("Function code combined with layers exceeds the maximum allowed size of "
          + settings.maxUnzippedBytes() + " bytes. The actual size is " + totalUnzipped + " bytes.");
    }
  }

  private static LambdaError unreadable() {
    return LambdaError.invalid("Could not unzip uploaded file. Please check your file, then try to upload again.");
  }
}
