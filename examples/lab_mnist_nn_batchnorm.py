# Lab 10: an MNIST MLP with batch normalization from tf.layers: three hidden layers of 512, each
# dense -> batch_normalization(training=is_training) -> relu, then dense 10.
# Batch norm's moving mean/variance change only through the UPDATE_OPS ops, so training depends on them.
# python examples/lab_mnist_nn_batchnorm.py --steps 1100 --batch_size 100 --logdir ./logs/mnist_nn_batchnorm
# board --logdir ./logs/mnist_nn_batchnorm
import time

import numpy as np

import mnist_data as input_data  # our loader, used where TF1 had its tutorials' MNIST module
import summaries as tf

FLAGS = input_data.lab_flags("TF1 MNIST MLP lab with tf.layers.batch_normalization", "./logs/mnist_nn_batchnorm")

tf.set_random_seed(777)  # same initial weights on every run

mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True)

# flat 784-pixel images and one-hot labels, fed per batch
X = tf.placeholder(tf.float32, [None, 784], name='X')
Y = tf.placeholder(tf.float32, [None, 10], name='Y')
# True: normalise with the batch's own statistics; False: with the moving averages
is_training = tf.placeholder(tf.bool, name='is_training')

hidden = X
for units in (512, 512, 512):
    hidden = tf.layers.dense(hidden, units, use_bias=False)   # no bias: batch norm's beta already shifts
    hidden = tf.layers.batch_normalization(hidden, training=is_training)
    hidden = tf.nn.relu(hidden)
logits = tf.layers.dense(hidden, 10)

cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(logits=logits, labels=Y))
# nothing runs the moving-average updates unless the train op waits for them
update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
with tf.control_dependencies(update_ops):
    optimizer = tf.train.AdamOptimizer(learning_rate=FLAGS.learning_rate).minimize(cost)

correct_prediction = tf.equal(tf.argmax(logits, 1), tf.argmax(Y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

tf.summary.scalar('loss', cost)
tf.summary.scalar('accuracy', accuracy)
summary = tf.summary.merge_all()

moving_mean = [v for v in tf.global_variables() if v.name == 'batch_normalization/moving_mean:0'][0]
moving_variance = [v for v in tf.global_variables() if v.name == 'batch_normalization/moving_variance:0'][0]

sess = tf.Session()
sess.run(tf.global_variables_initializer())
writer = tf.summary.FileWriter(FLAGS.logdir, sess.graph)

print('Learning Started!')
steps = FLAGS.steps or mnist.train.num_examples // FLAGS.batch_size
start = time.time()
for step in range(steps):
    batch_xs, batch_ys = mnist.train.next_batch(FLAGS.batch_size)
    feed_dict = {X: batch_xs, Y: batch_ys, is_training: True}
    if step % FLAGS.summary_every == 0:
        s, c, _ = sess.run([summary, cost, optimizer], feed_dict=feed_dict)
        writer.add_summary(s, global_step=step)
        print('Step:', '%04d' % step, 'cost =', '{:.9f}'.format(c))
    else:
        sess.run(optimizer, feed_dict=feed_dict)
train_seconds = time.time() - start
writer.close()
print('Learning Finished! %d steps of %d in %.1f s' % (steps, FLAGS.batch_size, train_seconds))

mm, mv = sess.run([moving_mean, moving_variance])
print('Moving stats moved: mean %.6f variance %.6f' % (np.abs(mm).max(), np.abs(mv - 1).max()))


def score(xs, ys):
    return sess.run(accuracy, feed_dict={X: xs, Y: ys, is_training: False})


# test-set accuracy in inference mode, i.e. using the moving statistics
print('Accuracy:', input_data.batched_accuracy(score, mnist.test, FLAGS.eval_size))
