package dev.lamina.actors.queue;

import dev.lamina.actors.CborSerializable;

/**
 * The settings of a Lamina queue (SQS names and defaults).
 *
 * @param deadLetterTargetArn with {@code maxReceiveCount}: the queue's redrive policy, or null
 */
public record QueueAttributes(int visibilityTimeoutSeconds, int messageRetentionSeconds, int maximumMessageSize,
    int delaySeconds, int receiveWaitTimeSeconds, String deadLetterTargetArn, int maxReceiveCount)
    implements CborSerializable {

  public static QueueAttributes defaults() {
    return new QueueAttributes(30, 345600, 262144, 0, 0, null, 0);
  }

  /** The redrive policy as SQS shows it, or null. */
  public String redrivePolicy() {
    return deadLetterTargetArn == null ? null
        : "{\"deadLetterTargetArn\":\"" + deadLetterTargetArn + "\",\"maxReceiveCount\":" + maxReceiveCount + "}";
  }
}
