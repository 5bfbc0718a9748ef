# Lab 11 MNIST and Convolutional Neural Network: conv 3x3x32 -> pool -> conv 3x3x64 -> pool -> dropout -> FC
# python examples/lab_mnist_cnn.py --steps 500 --batch_size 100 --logdir ./logs/mnist_cnn
# board --logdir ./logs/mnist_cnn
import time

import mnist_data as input_data  # stands in for tensorflow.examples.tutorials.mnist.input_data
import summaries as tf

FLAGS = input_data.lab_flags("TF1 MNIST CNN lab", "./logs/mnist_cnn")

tf.set_random_seed(777)  # reproducibility

mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True)

# input place holders
X = tf.placeholder(tf.float32, [None, 784], name='X')
X_img = tf.reshape(X, [-1, 28, 28, 1])   # img 28x28x1 (black/white)
Y = tf.placeholder(tf.float32, [None, 10], name='Y')
tf.summary.image('input', X_img, 3)

# dropout (keep_prob) rate  0.7 on training, but should be 1 for testing
keep_prob = tf.placeholder(tf.float32, name='keep_prob')

with tf.name_scope('layer1'):
    # L1 ImgIn shape=(?, 28, 28, 1)
    W1 = tf.Variable(tf.random_normal([3, 3, 1, 32], stddev=0.01), name='W')
    #    Conv     -> (?, 28, 28, 32)
    #    Pool     -> (?, 14, 14, 32)
    L1 = tf.nn.conv2d(X_img, W1, strides=[1, 1, 1, 1], padding='SAME')
    L1 = tf.nn.relu(L1)
    L1 = tf.nn.max_pool(L1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='SAME')
    tf.summary.histogram('weights', W1)
    tf.summary.histogram('layer', L1)

with tf.name_scope('layer2'):
    # L2 ImgIn shape=(?, 14, 14, 32)
    W2 = tf.Variable(tf.random_normal([3, 3, 32, 64], stddev=0.01), name='W')
    #    Conv      ->(?, 14, 14, 64)
    #    Pool      ->(?, 7, 7, 64)
    L2 = tf.nn.conv2d(L1, W2, strides=[1, 1, 1, 1], padding='SAME')
    L2 = tf.nn.relu(L2)
    L2 = tf.nn.max_pool(L2, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='SAME')
    L2_flat = tf.reshape(L2, [-1, 7 * 7 * 64])
    L2_flat = tf.nn.dropout(L2_flat, keep_prob=keep_prob)
    tf.summary.histogram('weights', W2)
    tf.summary.histogram('layer', L2)

with tf.variable_scope('layer3'):
    # Final FC 7x7x64 inputs -> 10 outputs
    W3 = tf.get_variable("W", shape=[7 * 7 * 64, 10], initializer=tf.contrib.layers.xavier_initializer())
    b = tf.Variable(tf.random_normal([10]), name='bias')
    logits = tf.matmul(L2_flat, W3) + b
    tf.summary.histogram('weights', W3)
    tf.summary.histogram('bias', b)

# define cost/loss & optimizer
cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=Y))
optimizer = tf.train.AdamOptimizer(learning_rate=FLAGS.learning_rate).minimize(cost)
correct_prediction = tf.equal(tf.argmax(logits, 1), tf.argmax(Y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
tf.summary.scalar('loss', cost)
tf.summary.scalar('accuracy', accuracy)
summary = tf.summary.merge_all()

# initialize
sess = tf.Session()
sess.run(tf.global_variables_initializer())
writer = tf.summary.FileWriter(FLAGS.logdir, sess.graph)

# train my model
steps = FLAGS.steps or mnist.train.num_examples // FLAGS.batch_size
print('Learning started. It takes sometime.')
start = time.time()
for step in range(steps):
    batch_xs, batch_ys = mnist.train.next_batch(FLAGS.batch_size)
    feed_dict = {X: batch_xs, Y: batch_ys, keep_prob: 0.7}
    if step % FLAGS.summary_every == 0:
        s, c, _ = sess.run([summary, cost, optimizer], feed_dict=feed_dict)
        writer.add_summary(s, global_step=step)
        print('Step:', '%04d' % step, 'cost =', '{:.9f}'.format(c))
    else:
        sess.run(optimizer, feed_dict=feed_dict)
train_seconds = time.time() - start
writer.close()
print('Learning Finished! %d steps of %d in %.1f s' % (steps, FLAGS.batch_size, train_seconds))

# Test model and check accuracy
print('Accuracy:', input_data.batched_accuracy(lambda xs, ys: sess.run(accuracy, feed_dict={X: xs, Y: ys, keep_prob: 1}), mnist.test, FLAGS.eval_size))
