# Lab 11: a small convnet on MNIST: conv 3x3x32 -> pool -> conv 3x3x64 -> pool -> dropout -> FC
# python examples/lab_mnist_cnn.py --steps 500 --batch_size 100 --logdir ./logs/mnist_cnn
# board --logdir ./logs/mnist_cnn
import time

import mnist_data as input_data  # our loader, used where TF1 had its tutorials' MNIST module
import summaries as tf

FLAGS = input_data.lab_flags("TF1 MNIST CNN lab", "./logs/mnist_cnn")

tf.set_random_seed(777)  # same initial weights on every run

mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True)

# flat 784-pixel images and one-hot labels, fed per batch
X = tf.placeholder(tf.float32, [None, 784], name='X')
X_img = tf.reshape(X, [-1, 28, 28, 1])   # back to 28x28 with one grey channel for conv2d
Y = tf.placeholder(tf.float32, [None, 10], name='Y')
tf.summary.image('input', X_img, 3)

# fraction of units kept by dropout: 0.7 while training, 1 (no dropout) when evaluating
keep_prob = tf.placeholder(tf.float32, name='keep_prob')

with tf.name_scope('layer1'):
    # first block, input (?, 28, 28, 1): 32 filters of 3x3
    W1 = tf.Variable(tf.random_normal([3, 3, 1, 32], stddev=0.01), name='W')
    # SAME conv keeps the size: (?, 28, 28, 32)
    # 2x2 max pool halves it: (?, 14, 14, 32)
    L1 = tf.nn.conv2d(X_img, W1, strides=[1, 1, 1, 1], padding='SAME')
    L1 = tf.nn.relu(L1)
    L1 = tf.nn.max_pool(L1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='SAME')
    tf.summary.histogram('weights', W1)
    tf.summary.histogram('layer', L1)

with tf.name_scope('layer2'):
    # second block, input (?, 14, 14, 32): 64 filters of 3x3
    W2 = tf.Variable(tf.random_normal([3, 3, 32, 64], stddev=0.01), name='W')
    # after the conv: (?, 14, 14, 64)
    # after the pool: (?, 7, 7, 64), then flattened for the dense layer
    L2 = tf.nn.conv2d(L1, W2, strides=[1, 1, 1, 1], padding='SAME')
    L2 = tf.nn.relu(L2)
    L2 = tf.nn.max_pool(L2, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='SAME')
    L2_flat = tf.reshape(L2, [-1, 7 * 7 * 64])
    L2_flat = tf.nn.dropout(L2_flat, keep_prob=keep_prob)
    tf.summary.histogram('weights', W2)
    tf.summary.histogram('layer', L2)

with tf.variable_scope('layer3'):
    # dense layer from the 7*7*64 features to one score per digit
    W3 = tf.get_variable("W", shape=[7 * 7 * 64, 10], initializer=tf.contrib.layers.xavier_initializer())
    b = tf.Variable(tf.random_normal([10]), name='bias')
    logits = tf.matmul(L2_flat, W3) + b
    tf.summary.histogram('weights', W3)
    tf.summary.histogram('bias', b)

# softmax cross-entropy on the raw scores, minimised with Adam
cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=Y))
optimizer = tf.train.AdamOptimizer(learning_rate=FLAGS.learning_rate).minimize(cost)
correct_prediction = tf.equal(tf.argmax(logits, 1), tf.argmax(Y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
tf.summary.scalar('loss', cost)
tf.summary.scalar('accuracy', accuracy)
summary = tf.summary.merge_all()

# session, starting weights, and a writer that also records the graph
sess = tf.Session()
sess.run(tf.global_variables_initializer())
writer = tf.summary.FileWriter(FLAGS.logdir, sess.graph)

# --steps 0 means one pass over the training set; summaries only every summary_every steps
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

# score the test set with dropout off (keep_prob 1), in batches to bound memory
print('Accuracy:', input_data.batched_accuracy(lambda xs, ys: sess.run(accuracy, feed_dict={X: xs, Y: ys, keep_prob: 1}), mnist.test, FLAGS.eval_size))
