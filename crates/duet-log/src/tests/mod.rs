mod convergence;
mod rejections;
