package dev.lamina.actors.queue;

import dev.lamina.actors.CborSerializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * One message of a Lamina queue, as stored. Immutable: a receive stores a new value.
 *
 * @param visibleAt epoch millis from which it may be received (delay, then visibility timeout)
 * @param receiptHandle the handle of its latest receive (only that one deletes it), or null
 * @param sourceArn the queue or function it was moved from (a redrive without a destination
 *     returns it there), or null
 */
public record QueueMessage(String messageId, String body, List<Attribute> attributes, String md5OfBody,
    String md5OfAttributes, long sentAt, long visibleAt, int receiveCount, long firstReceivedAt,
    String receiptHandle, String sourceArn) implements CborSerializable {

  /**
   * A message attribute: {@code dataType} String, Number or Binary (optionally with a custom
   * suffix, {@code Number.float}); binary values are kept base64.
   */
  public record Attribute(String name, String dataType, String value) implements CborSerializable {
    public boolean binary() {
      return dataType.startsWith("Binary");
    }
  }

  public QueueMessage {
    attributes = attributes == null ? List.of() : List.copyOf(attributes);
  }

  /** What counts against MaximumMessageSize: the body, and each attribute's name, type and value, in bytes. */
  public int size() {
    int n = body.getBytes(StandardCharsets.UTF_8).length;
    for (Attribute a : attributes) {
      n += a.name().getBytes(StandardCharsets.UTF_8).length + a.dataType().getBytes(StandardCharsets.UTF_8).length;
      if (a.value() != null) {
        n += a.binary() ? Base64.getDecoder().decode(a.value()).length : a.value().getBytes(StandardCharsets.UTF_8).length;
      }
    }
    return n;
  }

  QueueMessage received(long visibleUntil, String handle, long now) {
    return new QueueMessage(messageId, body, attributes, md5OfBody, md5OfAttributes, sentAt, visibleUntil,
        receiveCount + 1, receiveCount == 0 ? now : firstReceivedAt, handle, sourceArn);
  }

  QueueMessage touched(QueueActor.Touch t) {
    return new QueueMessage(messageId, body, attributes, md5OfBody, md5OfAttributes, sentAt, t.visibleAt(),
        t.receiveCount(), t.firstReceivedAt(), t.receiptHandle(), sourceArn);
  }

  QueueMessage visibleAt(long at) {
    return new QueueMessage(messageId, body, attributes, md5OfBody, md5OfAttributes, sentAt, at, receiveCount,
        firstReceivedAt, receiptHandle, sourceArn);
  }

  /** Hex MD5 of the body's UTF-8 bytes, as SQS reports it (and SDKs check it). */
  public static String md5OfBody(String body) {
    return HexFormat.of().formatHex(md5().digest(body.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * SQS's digest of message attributes: for each attribute sorted by name, length-prefixed (4
   * bytes, big-endian) name, data type, then a transport byte (1 string, 2 binary) and the
   * length-prefixed value. Null when there are none.
   */
  public static String md5OfAttributes(List<Attribute> attributes) {
    if (attributes.isEmpty()) {
      return null;
    }
    MessageDigest md5 = md5();
    attributes.stream().sorted(Comparator.comparing(Attribute::name)).forEach(a -> {
      lengthPrefixed(md5, a.name().getBytes(StandardCharsets.UTF_8));
      lengthPrefixed(md5, a.dataType().getBytes(StandardCharsets.UTF_8));
      if (a.binary()) {
        md5.update((byte) 2);
        lengthPrefixed(md5, Base64.getDecoder().decode(a.value()));
      } else {
        md5.update((byte) 1);
        lengthPrefixed(md5, a.value().getBytes(StandardCharsets.UTF_8));
      }
    });
    return HexFormat.of().formatHex(md5.digest());
  }

  private static void lengthPrefixed(MessageDigest md5, byte[] bytes) {
    md5.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
    md5.update(bytes);
  }

  private static MessageDigest md5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
