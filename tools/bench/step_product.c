// The per-step recurrent product C[M,N] += A[M,K] * op(W) three ways, on the machine's 2 cores:
// OpenBLAS cblas_sgemm (packs W at every call), oneDNN matmul on W reordered once into its
// blocked layout (what Sources/LEMModel/Runtime/StepProduct.swift does), and oneDNN's sgemm.
//
//   gcc -O2 -march=native tools/bench/step_product.c -o step_product -lopenblas -ldnnl
//   OMP_NUM_THREADS=2 ./step_product 128 4096 1024 50    # char LSTM forward: h·W_hhᵀ
//   OMP_NUM_THREADS=2 ./step_product 128 1024 4096 50    # char LSTM backward: ∂X·W_hh
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define CHECK(x) do{dnnl_status_t s=(x); if(s!=dnnl_success){printf("err %d at %s\n",s,#x);exit(1);}}while(0)
// C[M,N] += A[M,K] * op(W) ; W stored [N,K] (transB) as in h·W_hhᵀ
int main(int argc,char**argv){
  int M=atoi(argv[1]),N=atoi(argv[2]),K=atoi(argv[3]); int reps=atoi(argv[4]);
  float*A=malloc(4L*M*K),*W=malloc(4L*N*K),*C=malloc(4L*M*N);
  for(long i=0;i<(long)M*K;i++)A[i]=(rand()%100)/100.f; for(long i=0;i<(long)N*K;i++)W[i]=(rand()%100)/100.f-0.5f;
  for(long i=0;i<(long)M*N;i++)C[i]=0;
  dnnl_engine_t eng; CHECK(dnnl_engine_create(&eng,dnnl_cpu,0)); dnnl_stream_t st; CHECK(dnnl_stream_create(&st,eng,dnnl_stream_default_flags));
  dnnl_memory_desc_t a_md,w_md,w_any,c_md; dnnl_dims_t ad={M,K},wd={K,N},cd={M,N};
  CHECK(dnnl_memory_desc_init_by_tag(&a_md,2,ad,dnnl_f32,dnnl_ab));
  CHECK(dnnl_memory_desc_init_by_tag(&w_md,2,wd,dnnl_f32,dnnl_ba)); // W[N,K] row-major = KxN with 'ba'
  CHECK(dnnl_memory_desc_init_by_tag(&w_any,2,wd,dnnl_f32,dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(&c_md,2,cd,dnnl_f32,dnnl_ab));
  dnnl_matmul_desc_t md; CHECK(dnnl_matmul_desc_init(&md,&a_md,&w_any,NULL,&c_md));
  dnnl_primitive_attr_t attr; CHECK(dnnl_primitive_attr_create(&attr)); dnnl_post_ops_t po; CHECK(dnnl_post_ops_create(&po)); CHECK(dnnl_post_ops_append_sum(po,1.0f)); CHECK(dnnl_primitive_attr_set_post_ops(attr,po));
  dnnl_primitive_desc_t pd; CHECK(dnnl_primitive_desc_create(&pd,&md,attr,eng,NULL));
  const dnnl_memory_desc_t*wq=dnnl_primitive_desc_query_md(pd,dnnl_query_weights_md,0);
  const char*impl; dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,&impl); printf("impl %s\n",impl);
  dnnl_primitive_t mm; CHECK(dnnl_primitive_create(&mm,pd));
  dnnl_memory_t am,wm,wp,cm; CHECK(dnnl_memory_create(&am,&a_md,eng,A)); CHECK(dnnl_memory_create(&wm,&w_md,eng,W)); CHECK(dnnl_memory_create(&wp,wq,eng,DNNL_MEMORY_ALLOCATE)); CHECK(dnnl_memory_create(&cm,&c_md,eng,C));
  dnnl_primitive_desc_t rpd; CHECK(dnnl_reorder_primitive_desc_create(&rpd,&w_md,eng,wq,eng,NULL)); dnnl_primitive_t re; CHECK(dnnl_primitive_create(&re,rpd));
  dnnl_exec_arg_t rargs[2]={{DNNL_ARG_FROM,wm},{DNNL_ARG_TO,wp}};
  double t0=now(); CHECK(dnnl_primitive_execute(re,st,2,rargs)); dnnl_stream_wait(st); double treorder=now()-t0;
  dnnl_exec_arg_t args[3]={{DNNL_ARG_SRC,am},{DNNL_ARG_WEIGHTS,wp},{DNNL_ARG_DST,cm}};
  double flops=2.0*M*N*K;
  for(int round=0;round<3;round++){
    for(int i=0;i<3;i++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,M,N,K,1,A,K,W,K,1,C,N);
    t0=now(); for(int i=0;i<reps;i++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,M,N,K,1,A,K,W,K,1,C,N); double tb=(now()-t0)/reps;
    for(int i=0;i<3;i++){dnnl_primitive_execute(mm,st,3,args);} dnnl_stream_wait(st);
    t0=now(); for(int i=0;i<reps;i++){dnnl_primitive_execute(mm,st,3,args);} dnnl_stream_wait(st); double td=(now()-t0)/reps;
    t0=now(); for(int i=0;i<reps;i++) dnnl_sgemm('N','T',M,N,K,1,A,K,W,K,1,C,N); double ts=(now()-t0)/reps; // note: dnnl_sgemm is row-major
    printf("M%d N%d K%d: openblas %.3f ms %.0f GF | dnnl matmul packed %.3f ms %.0f GF | dnnl_sgemm %.3f ms %.0f GF | reorder %.2f ms\n",M,N,K,tb*1e3,flops/tb/1e9,td*1e3,flops/td/1e9,ts*1e3,flops/ts/1e9,treorder*1e3);
  }
  return 0;
}
